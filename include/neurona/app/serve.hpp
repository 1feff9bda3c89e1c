#pragma once
// `neurona serve`: the local web app — a TensorFlow-Playground-style playground trained on the
// Neurona engine, a learning-rate explorer and a dashboard of the run directories under a log
// directory. The front-end is embedded in the binary; the server binds 127.0.0.1 by default.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

namespace neurona::app {

struct ServeOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port (see WebServer::port())
  std::filesystem::path logdir = "runs";
  int max_sessions = 64;        // Playground sessions alive at once
  double session_idle_s = 120;  // a session nobody asked about for this long is closed
  double session_max_s = 3600;  // and none lives longer than this
  double read_timeout_s = 5;    // a connection whose request stops arriving for this long is closed
};

// The server in-process: start() binds and serves on a background thread until stop().
class WebServer {
 public:
  explicit WebServer(ServeOptions options);
  ~WebServer();
  WebServer(const WebServer&) = delete;
  WebServer& operator=(const WebServer&) = delete;
  void start();      // throws neurona::Error when the address cannot be bound
  int port() const;  // the bound port
  void wait();       // blocks until stop() (or a signal handler calling stop())
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// `neurona serve [--port 8080] [--logdir runs] [--host 127.0.0.1]`; argv[0] is the command name
// ("serve"). Serves until SIGINT/SIGTERM; returns the process exit code.
int serve_main(int argc, char** argv);

}  // namespace neurona::app
