<?php
// PHP's own session handler (files, in session.save_path), through the built-in server.
if (($_SERVER['REQUEST_URI'] ?? '/') === '/session') {
    session_start();
    $_SESSION['visits'] = ($_SESSION['visits'] ?? 0) + 1;
    echo 'visits ', $_SESSION['visits'], "\n";
    return;
}
echo "php ok\n";
