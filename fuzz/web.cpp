// The web server's request handling (`neurona serve`): each input is raw bytes sent to a server
// of this process over loopback, so the HTTP parser, the URLs, the JSON bodies and the uploaded
// CSVs are all reached. "{sid}" in an input stands for a Playground session made at start-up.
// A defect is an answer 500 (an exception the routes did not turn into a message), no answer
// within 10 s, or a crash of the server. Only the first answer of pipelined requests is read.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "fuzz_util.hpp"
#include "neurona/app/serve.hpp"
#include "neurona/io/tensorboard.hpp"

namespace {

neurona::app::WebServer* server = nullptr;
std::string session_id;

// The length of the first complete answer in `answer` (headers and Content-Length bytes of
// body), or 0 while it is incomplete.
size_t first_answer_length(const std::string& answer) {
  const size_t end = answer.find("\r\n\r\n");
  if (end == std::string::npos) return 0;
  size_t body = 0;
  for (size_t at = answer.find("\r\n"); at < end; at = answer.find("\r\n", at + 2)) {
    const std::string line = answer.substr(at + 2, answer.find("\r\n", at + 2) - at - 2);
    if (strncasecmp(line.c_str(), "Content-Length:", 15) == 0)
      body = std::strtoull(line.c_str() + 15, nullptr, 10);
  }
  return answer.size() >= end + 4 + body ? end + 4 + body : 0;
}

// A socket connected to the server. A connection refused three times running means the server
// stopped listening; once may be the loaded machine (a connect taking over the 10 s timeout).
int connect_to_server() {
  for (int attempt = 0;; ++attempt) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) std::abort();
    timeval timeout{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(server->port()));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) return fd;
    std::fprintf(stderr, "fuzz web: cannot connect to the server: %s\n", std::strerror(errno));
    ::close(fd);
    if (attempt == 2) std::abort();
    ::usleep(100000);
  }
}

// Sends `request` and returns the server's first answer (empty when it closes without one).
std::string exchange(const std::string& request) {
  const int fd = connect_to_server();
  size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may close early on a bad request
    sent += static_cast<size_t>(n);
  }
  // (The writing side stays open: the server drops a half-closed connection unanswered.)
  std::string answer;
  char buf[1 << 14];
  while (first_answer_length(answer) == 0) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        std::fprintf(stderr, "fuzz web: no answer within 10 s\n");
        std::abort();
      }
      break;  // reset by the server: a refused request
    }
    answer.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return answer;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // A log directory with one run for the dashboard's routes.
  const auto logdir = neurona::fuzz::scratch_dir() / "runs";
  {
    neurona::io::SummaryWriter w(logdir / "run1");
    for (int64_t i = 0; i < 3; ++i) w.add_scalar("loss", 1.0 / static_cast<double>(i + 1), i);
  }
  neurona::app::ServeOptions o;
  o.port = 0;
  o.logdir = logdir;
  o.max_sessions = 8;
  o.read_timeout_s = 0.01;  // an incomplete request is dropped at once (loopback delivers at once)
  server = new neurona::app::WebServer(o);
  server->start();
  const std::string body = R"({"dataset": "xor", "networkShape": [4, 2]})";
  const std::string made = exchange(
      "POST /api/playground HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body);
  const auto at = made.find("\"id\":\"");
  if (at == std::string::npos) {
    std::fprintf(stderr, "fuzz web: cannot make a Playground session: %s\n", made.c_str());
    std::abort();
  }
  session_id = made.substr(at + 6, made.find('"', at + 6) - at - 6);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string request(neurona::fuzz::as_text(data, size));
  for (size_t at = request.find("{sid}"); at != std::string::npos; at = request.find("{sid}", at))
    request.replace(at, 5, session_id);
  const std::string answer = exchange(request);
  // (Only the status line: a body may quote the request, which may hold "HTTP/1.1 500".)
  if (answer.rfind("HTTP/1.1 500", 0) == 0) {
    std::fprintf(stderr, "fuzz web: the server answered 500:\n%s\n", answer.c_str());
    std::abort();
  }
  return 0;
}
