// Express, started with `npm start` (npm writes its cache and logs, which the buildpack
// moves with NPM_CONFIG_CACHE and NPM_CONFIG_LOGS_DIR).
const express = require("express");
const os = require("node:os");
const fs = require("node:fs");
const path = require("node:path");

const app = express();
app.get("/", (req, res) => res.send("express ok\n"));
// What an app writes to the system's temporary directory (uploads, multer, ...).
app.get("/upload", (req, res) => {
  const file = path.join(os.tmpdir(), `upload-${process.pid}`);
  fs.writeFileSync(file, "uploaded");
  res.send(`stored ${fs.readFileSync(file, "utf8")}\n`);
});
app.listen(8080, () => console.log("listening on 8080"));
