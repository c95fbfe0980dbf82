package example;

import jakarta.servlet.http.HttpSession;
import java.io.IOException;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.multipart.MultipartFile;

/** A page, a session (Tomcat's session manager) and an upload (Tomcat's multipart temp dir). */
@SpringBootApplication
@RestController
public class App {
    public static void main(String[] args) {
        SpringApplication.run(App.class, args);
    }

    @GetMapping("/")
    public String index() {
        return "spring ok on " + System.getProperty("java.version");
    }

    @GetMapping("/session")
    public String session(HttpSession session) {
        Integer visits = (Integer) session.getAttribute("visits");
        visits = visits == null ? 1 : visits + 1;
        session.setAttribute("visits", visits);
        return "visits " + visits;
    }

    /** Spring Boot's multipart threshold is 0: every part goes to a file in Tomcat's work directory first. */
    @PostMapping("/upload")
    public String upload(@RequestParam("file") MultipartFile file) throws IOException {
        return "stored uploaded " + file.getBytes().length + " bytes";
    }
}
