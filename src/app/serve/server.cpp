// `neurona serve`: the HTTP routes (cpp-httplib), request validation and the command line.
#include <httplib.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "api.hpp"
#include "neurona/app/serve.hpp"
#include "neurona/core/error.hpp"
#include "playground.hpp"

namespace neurona::app {

namespace fs = std::filesystem;

namespace {

constexpr size_t kMaxBody = 1 << 20;   // any request body
constexpr size_t kMaxJson = 64 << 10;  // JSON bodies
constexpr size_t kMaxCsv = 200 << 10;  // uploaded CSV

// A request the user got wrong: answered with `status` and {"error": message}.
struct HttpError : std::runtime_error {
  int status;
  HttpError(int s, const std::string& m) : std::runtime_error(m), status(s) {}
};

void send_json(httplib::Response& res, const json& j, int status = 200) {
  res.status = status;
  // Text from the request or from files (a URL, a run's name) may not be UTF-8: such bytes become
  // U+FFFD instead of an exception.
  res.set_content(j.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

void send_error(httplib::Response& res, int status, const std::string& message) {
  send_json(res, {{"error", message}}, status);
}

json parse_json(const httplib::Request& req) {
  if (req.body.size() > kMaxJson) throw HttpError(413, "the JSON body is larger than 64 KiB");
  try {
    return json::parse(req.body);
  } catch (const json::exception& e) {  // a syntax error, or a number too large (out_of_range)
    throw HttpError(400, std::string("malformed JSON: ") + e.what());
  }
}

// Rejects query parameters the route does not know.
void allow_params(const httplib::Request& req, std::initializer_list<const char*> names) {
  // httplib merges form fields into params; the API takes JSON (or CSV text) bodies only.
  if (req.get_header_value("Content-Type").rfind("application/x-www-form-urlencoded", 0) == 0)
    throw HttpError(415, "send the body as JSON (Content-Type: application/json), not as a form");
  for (const auto& [k, v] : req.params) {
    bool known = false;
    for (const char* n : names) known = known || k == n;
    if (!known) throw HttpError(400, "unknown query parameter '" + k + "'");
    if (v.size() > 1024) throw HttpError(400, "query parameter '" + k + "' is too long");
  }
}

int64_t int_param(const httplib::Request& req, const char* name, int64_t fallback, int64_t lo, int64_t hi) {
  if (!req.has_param(name)) return fallback;
  const std::string v = req.get_param_value(name);
  char* end = nullptr;
  const long long n = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || n < lo || n > hi)
    throw HttpError(400, "query parameter '" + std::string(name) + "' must be an integer in [" +
                             std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return n;
}

const char* mime_of(const std::string& name) {
  auto ends = [&](const char* ext) {
    const size_t n = std::strlen(ext);
    return name.size() >= n && name.compare(name.size() - n, n, ext) == 0;
  };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".js")) return "text/javascript; charset=utf-8";
  if (ends(".svg")) return "image/svg+xml";
  if (ends(".json")) return "application/json";
  if (ends(".png")) return "image/png";
  return "text/plain; charset=utf-8";
}

using Clock = std::chrono::steady_clock;

constexpr size_t kMaxHead = 64 << 10;  // a request's line and headers

// Set by a handler that answers before the request's body is read: the connection is closed after
// the answer, or the body would be taken for the next request.
thread_local bool close_after_answer = false;

// One connection's stream (see HttpServer). Reads are buffered; each waits at most the read
// timeout and, within a request, ends at the request's deadline; a request's head (its line and
// headers, up to the empty line) may take kMaxHead bytes. Waits for reading end when the server
// stops (its listening socket is closed).
class ConnectionStream final : public httplib::Stream {
 public:
  ConnectionStream(socket_t sock, const std::atomic<socket_t>& listener, Clock::duration read_timeout,
                   Clock::duration write_timeout)
      : sock_(sock), listener_(listener), read_timeout_(read_timeout), write_timeout_(write_timeout) {}

  // Waits up to `idle` for the next request, which must then arrive whole within `deadline`.
  bool next_request(Clock::duration idle, Clock::duration deadline) {
    if (!readable(Clock::now() + idle)) return false;
    deadline_ = Clock::now() + deadline;
    head_ = 0;
    matched_ = 0;
    return true;
  }
  bool failed() const { return failed_; }           // a read met the deadline or the head limit
  bool head_read() const { return matched_ == 4; }  // up to its end (not so after a malformed line)
  // Reads and drops what the client still sends, while it sends promptly, for at most `limit`: a
  // socket closed with unread data resets the connection, and the client may lose the answer.
  void drain(Clock::duration limit) {
    const auto until = Clock::now() + limit;
    while (ready(POLLIN, std::min(until, Clock::now() + std::chrono::milliseconds(100)), true) &&
           ::recv(sock_, buf_, sizeof buf_, 0) > 0) {
    }
  }

  bool is_readable() const override { return readable(read_until()); }
  bool is_writable() const override { return ready(POLLOUT, Clock::now() + write_timeout_, false); }
  ssize_t read(char* ptr, size_t size) override {
    if (pos_ == end_) {
      if (!readable(read_until())) {
        failed_ = true;
        return -1;
      }
      ssize_t n;
      do n = ::recv(sock_, buf_, sizeof buf_, 0);
      while (n < 0 && errno == EINTR);
      if (n <= 0) return n;
      pos_ = 0;
      end_ = size_t(n);
    }
    const size_t n = std::min(size, end_ - pos_);
    // In the head: its bytes are counted up to the "\r\n\r\n" that ends it.
    for (size_t i = 0; i < n && matched_ < 4; ++i, ++head_) {
      const char c = buf_[pos_ + i];
      matched_ = c == "\r\n\r\n"[matched_] ? matched_ + 1 : c == '\r' ? 1 : 0;
    }
    if (head_ > kMaxHead) {
      failed_ = true;
      return -1;
    }
    std::memcpy(ptr, buf_ + pos_, n);
    pos_ += n;
    return ssize_t(n);
  }
  ssize_t write(const char* ptr, size_t size) override {
    if (!is_writable()) return -1;
    ssize_t n;
    do n = ::send(sock_, ptr, size, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    return n;
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override { address(true, ip, port); }
  void get_local_ip_and_port(std::string& ip, int& port) const override { address(false, ip, port); }
  socket_t socket() const override { return sock_; }

 private:
  Clock::time_point read_until() const { return std::min(Clock::now() + read_timeout_, deadline_); }
  bool readable(Clock::time_point until) const { return pos_ < end_ || ready(POLLIN, until, true); }
  // Polls in slices, so that a wait for reading ends soon after the server stops.
  bool ready(short events, Clock::time_point until, bool reading) const {
    for (;;) {
      if (reading && listener_ == INVALID_SOCKET) return false;
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
      if (left <= 0) return false;
      pollfd p{sock_, events, 0};
      const int r = ::poll(&p, 1, int(std::min<long long>(left, 100)));
      if (r > 0) return true;
      if (r < 0 && errno != EINTR) return false;
    }
  }
  void address(bool peer, std::string& ip, int& port) const {
    sockaddr_storage a{};
    socklen_t len = sizeof a;
    auto* sa = reinterpret_cast<sockaddr*>(&a);
    if ((peer ? ::getpeername(sock_, sa, &len) : ::getsockname(sock_, sa, &len)) != 0) return;
    char host[NI_MAXHOST], serv[NI_MAXSERV];
    if (::getnameinfo(sa, len, host, sizeof host, serv, sizeof serv, NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
      ip = host;
      port = std::atoi(serv);
    }
  }

  socket_t sock_;
  const std::atomic<socket_t>& listener_;
  Clock::duration read_timeout_, write_timeout_;
  Clock::time_point deadline_ = Clock::time_point::max();
  size_t head_ = 0;
  int matched_ = 0;
  bool failed_ = false;
  char buf_[4096];
  size_t pos_ = 0, end_ = 0;
};

// httplib 0.11 reads a request with a timeout for each read only, and keeps its headers whatever
// their size: a client sending a byte now and then held a worker as long as it liked (24 of them,
// one per worker, stalled the server) and one sending megabytes of headers had them all kept in
// memory. Its API has no hook before the headers are read, so connections are served here, as by
// its own process_and_close_socket (keep-alive, up to keep_alive_max_count_ requests), over a
// ConnectionStream: a request must arrive whole within request_deadline, with a head of kMaxHead
// bytes at most.
class HttpServer : public httplib::Server {
 public:
  Clock::duration request_deadline = std::chrono::seconds(10);
  // httplib 0.11 listens with a backlog of 5 (built into the shared library): a burst of clients
  // overflowed it, and the connections dropped waited for TCP's retries (1 s, 3 s, ...).
  void set_backlog(int n) { ::listen(svr_sock_, n); }

 private:
  bool process_and_close_socket(socket_t sock) override {
    using std::chrono::microseconds, std::chrono::seconds;
    ConnectionStream strm(sock, svr_sock_, seconds(read_timeout_sec_) + microseconds(read_timeout_usec_),
                          seconds(write_timeout_sec_) + microseconds(write_timeout_usec_));
    bool ok = false, drain = false;
    for (size_t left = keep_alive_max_count_;
         left > 0 && strm.next_request(seconds(keep_alive_timeout_sec_), request_deadline); --left) {
      bool closed = false;
      close_after_answer = false;
      ok = process_request(strm, left == 1, closed, nullptr);
      drain = close_after_answer || strm.failed() || !strm.head_read();
      if (!ok || closed || drain) break;
    }
    if (drain) {
      ::shutdown(sock, SHUT_WR);
      strm.drain(std::chrono::seconds(1));
    }
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
    return ok;
  }
};

}  // namespace

struct WebServer::Impl {
  ServeOptions options;
  HttpServer http;
  playground::SessionManager sessions;
  std::thread thread;
  int port = 0;
  std::mutex mu;
  std::condition_variable cv;
  bool stopped = false;

  explicit Impl(ServeOptions o)
      : options(std::move(o)), sessions(options.max_sessions, options.session_idle_s, options.session_max_s) {
    routes();
  }

  std::shared_ptr<playground::Session> session(const httplib::Request& req) {
    auto s = sessions.find(req.matches[1]);
    if (!s)
      throw HttpError(404, "no Playground session '" + std::string(req.matches[1]) +
                               "' (it may have ended after being idle)");
    return s;
  }

  // Wraps a handler: every error becomes a 4xx/5xx with a message.
  template <class F>
  httplib::Server::Handler guard(F f) {
    return [f](const httplib::Request& req, httplib::Response& res) {
      try {
        f(req, res);
      } catch (const HttpError& e) {
        send_error(res, e.status, e.what());
      } catch (const Error& e) {
        send_error(res, 400, e.what());
      } catch (const std::exception& e) {
        send_error(res, 500, std::string("internal error: ") + e.what());
      }
    };
  }

  void serve_asset(const std::string& name, httplib::Response& res) {
    const auto& assets = web_assets();
    const auto it = assets.find(name);
    if (it == assets.end()) throw HttpError(404, "no such page '" + name + "'");
    res.set_content(std::string(it->second), mime_of(name));
    res.set_header("Cache-Control", "no-cache");
  }

  void routes() {
    http.set_payload_max_length(kMaxBody);
    http.set_keep_alive_timeout(2);
    const auto read_us = static_cast<int64_t>(options.read_timeout_s * 1e6);
    http.set_read_timeout(read_us / 1000000, read_us % 1000000);
    http.set_write_timeout(5);
    http.request_deadline = std::chrono::microseconds(2 * read_us);  // for a whole request (HttpServer)
    // Enough workers for the page's parallel requests plus many sessions' step requests.
    http.new_task_queue = [] { return new httplib::ThreadPool(24); };
    http.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty()) return;
      const std::string msg = res.status == 413   ? "the request body is too large (1 MiB at most)"
                              : res.status == 404 ? "not found: " + req.path
                                                  : "bad request";
      send_error(res, res.status, msg);
    });
    // Before a body is read: httplib 0.11 holds a Content-Length to the payload limit, but would
    // keep a chunked body, or one without a length (read until the client closes), whatever its
    // size; and a body over the limit is refused now rather than read through.
    http.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
      const std::string length = req.get_header_value("Content-Length");
      const bool has_body = req.method == "POST" || req.method == "PUT" || req.method == "PATCH";
      if (req.has_header("Transfer-Encoding") || (has_body && !req.has_header("Content-Length")))
        send_error(res, 411, "send the body with a Content-Length (no chunked transfer encoding)");
      else if (req.get_header_value_count("Content-Length") > 1 ||
               length.find_first_not_of("0123456789") != std::string::npos)
        send_error(res, 400, "malformed Content-Length");
      else if (length.size() > 7 || (!length.empty() && std::stoul(length) > kMaxBody))
        send_error(res, 413, "the request body is too large (1 MiB at most)");
      else
        return httplib::Server::HandlerResponse::Unhandled;
      res.set_header("Connection", "close");
      close_after_answer = true;
      return httplib::Server::HandlerResponse::Handled;
    });

    // Pages and their files, all embedded in the binary.
    http.Get("/", guard([this](const auto&, auto& res) { serve_asset("index.html", res); }));
    http.Get("/playground", guard([this](const auto&, auto& res) { serve_asset("index.html", res); }));
    http.Get("/dashboard", guard([this](const auto&, auto& res) { serve_asset("dashboard.html", res); }));
    http.Get("/explorer", guard([this](const auto&, auto& res) { serve_asset("explorer.html", res); }));
    http.Get(R"(/static/([A-Za-z0-9_.-]{1,64}))",
             guard([this](const auto& req, auto& res) { serve_asset(req.matches[1], res); }));

    http.Get("/favicon.ico", [](const auto&, auto& res) { res.status = 204; });
    http.Get("/api/health", guard([this](const auto& req, auto& res) {
               allow_params(req, {});
               send_json(res, {{"ok", true}, {"sessions", sessions.size()}});
             }));

    // Playground sessions.
    http.Post("/api/playground", guard([this](const auto& req, auto& res) {
                allow_params(req, {});
                const json body = parse_json(req);
                const auto config = playground::Config::from_json(body);
                std::shared_ptr<playground::Session> s;
                try {
                  s = sessions.create(config);
                } catch (const Error& e) {
                  if (std::string(e.what()).find("too many") != std::string::npos)
                    throw HttpError(429, e.what());
                  throw;
                }
                json st = s->state(-1, true);
                st["id"] = s->id();
                send_json(res, st, 201);
              }));
    const std::string sid = R"(/api/playground/([0-9]{1,12}-[0-9]{1,8}))";
    http.Get(sid + "/state", guard([this](const auto& req, auto& res) {
               allow_params(req, {"from", "points"});
               const int64_t from = int_param(req, "from", -1, -1, int64_t(1) << 40);
               const bool points = int_param(req, "points", 0, 0, 1) == 1;
               send_json(res, session(req)->state(from, points));
             }));
    http.Post(sid + "/config", guard([this](const auto& req, auto& res) {
                allow_params(req, {});
                auto s = session(req);
                s->configure(playground::Config::from_json(parse_json(req)));
                send_json(res, s->state(-1, true));
              }));
    http.Post(sid + "/control", guard([this](const auto& req, auto& res) {
                allow_params(req, {});
                auto s = session(req);
                const json body = parse_json(req);
                if (!body.is_object() || body.size() != 1 || !body.contains("action") ||
                    !body["action"].is_string())
                  throw HttpError(400, "expected {\"action\": \"play\" | \"pause\" | \"step\" | \"reset\"}");
                const std::string a = body["action"];
                if (a == "play")
                  s->play();
                else if (a == "pause")
                  s->pause();
                else if (a == "reset")
                  s->reset();
                else if (a == "step")
                  return send_json(res, s->step());
                else
                  throw HttpError(400, "unknown action '" + a + "' (play, pause, step, reset)");
                send_json(res, {{"ok", true}});
              }));
    http.Post(sid + "/weight", guard([this](const auto& req, auto& res) {
                allow_params(req, {});
                auto s = session(req);
                const json b = parse_json(req);
                check(b.is_object(), "expected {\"layer\", \"to\", \"from\", \"value\"}");
                for (auto it = b.begin(); it != b.end(); ++it)
                  check(it.key() == "layer" || it.key() == "to" || it.key() == "from" || it.key() == "value",
                        "unknown field '", it.key(), "'");
                for (const char* k : {"layer", "to", "from"})
                  check(b.contains(k) && b[k].is_number_integer(), "'", k, "' must be an integer");
                check(b.contains("value") && b["value"].is_number(), "'value' must be a number");
                s->set_weight(b["layer"].get<int>(), b["to"].get<int>(), b["from"].get<int>(),
                              b["value"].get<double>());
                send_json(res, {{"ok", true}});
              }));
    http.Post(sid + "/csv", guard([this](const auto& req, auto& res) {
                allow_params(req, {});
                if (req.body.size() > kMaxCsv) throw HttpError(413, "the CSV is larger than 200 KiB");
                auto s = session(req);
                s->upload_csv(req.body);
                send_json(res, s->state(-1, true));
              }));
    http.Get(sid + R"(/export/(config\.yaml|weights\.safetensors|data\.csv))",
             guard([this](const auto& req, auto& res) {
               allow_params(req, {});
               auto s = session(req);
               const std::string what = req.matches[2];
               if (what == "config.yaml")
                 res.set_content(s->export_config_yaml(), "application/x-yaml");
               else if (what == "data.csv")
                 res.set_content(s->export_data_csv(), "text/csv");
               else
                 res.set_content(s->export_weights_safetensors(), "application/octet-stream");
               res.set_header("Content-Disposition", "attachment; filename=\"" + what + "\"");
             }));
    http.Delete(sid, guard([this](const auto& req, auto& res) {
                  allow_params(req, {});
                  if (!sessions.remove(req.matches[1])) throw HttpError(404, "no such session");
                  send_json(res, {{"ok", true}});
                }));

    // Learning-rate explorer.
    http.Post("/api/explorer/1d", guard([](const auto& req, auto& res) {
                allow_params(req, {});
                send_json(res, explorer_1d(parse_json(req)));
              }));
    http.Post("/api/explorer/race", guard([](const auto& req, auto& res) {
                allow_params(req, {});
                send_json(res, explorer_race(parse_json(req)));
              }));

    // Dashboard.
    http.Get("/api/runs", guard([this](const auto& req, auto& res) {
               allow_params(req, {});
               send_json(res, dashboard_runs(options.logdir));
             }));
    http.Get("/api/run", guard([this](const auto& req, auto& res) {
               allow_params(req, {"path"});
               if (!req.has_param("path")) throw HttpError(400, "missing query parameter 'path'");
               const std::string rel = req.get_param_value("path");
               if (rel != "." && !resolve_in_logdir(options.logdir, rel))
                 throw HttpError(403, "path '" + rel + "' is outside the log directory");
               send_json(res, dashboard_run(options.logdir, rel));
             }));
    // Files of the runs (learning_curves.svg, history.csv, …): never outside the log directory.
    http.Get(R"(/logs/(.+))", guard([this](const auto& req, auto& res) {
               allow_params(req, {});
               const auto path = resolve_in_logdir(options.logdir, req.matches[1]);
               if (!path) throw HttpError(403, "path is outside the log directory");
               std::error_code ec;
               if (!fs::is_regular_file(*path, ec)) throw HttpError(404, "no such file in the log directory");
               if (fs::file_size(*path, ec) > (16u << 20)) throw HttpError(413, "file larger than 16 MiB");
               std::ifstream in(*path, std::ios::binary);
               std::ostringstream s;
               s << in.rdbuf();
               res.set_content(s.str(), mime_of(path->filename().string()));
             }));
  }
};

WebServer::WebServer(ServeOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

WebServer::~WebServer() { stop(); }

void WebServer::start() {
  auto& im = *impl_;
  if (im.options.port == 0) {
    im.port = im.http.bind_to_any_port(im.options.host);
    check(im.port > 0, "cannot bind ", im.options.host, " to a free port");
  } else {
    check(im.http.bind_to_port(im.options.host, im.options.port), "cannot bind ", im.options.host, ":",
          im.options.port, " (in use, or not an address of this machine)");
    im.port = im.options.port;
  }
  im.http.set_backlog(SOMAXCONN);
  im.thread = std::thread([&im] { im.http.listen_after_bind(); });
}

int WebServer::port() const { return impl_->port; }

void WebServer::wait() {
  std::unique_lock lk(impl_->mu);
  impl_->cv.wait(lk, [&] { return impl_->stopped; });
}

void WebServer::stop() {
  if (!impl_) return;
  {
    std::lock_guard lk(impl_->mu);
    if (impl_->stopped) return;
    impl_->stopped = true;
  }
  impl_->http.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
  impl_->cv.notify_all();
}

int serve_main(int argc, char** argv) {
  ServeOptions o;
  const char* usage =
      "usage: neurona serve [--port 8080] [--logdir runs] [--host 127.0.0.1]\n"
      "  Serves the web app: the Playground (/), the learning-rate explorer (/explorer) and the\n"
      "  dashboard of the runs under --logdir (/dashboard). Ctrl-C stops it.\n";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      check(i + 1 < argc, "option ", a, " needs a value");
      return argv[++i];
    };
    if (a == "--help" || a == "-h") {
      std::cout << usage;
      return 0;
    } else if (a == "--port") {
      const std::string v = value();
      char* end = nullptr;
      const long p = std::strtol(v.c_str(), &end, 10);
      check(!v.empty() && *end == '\0' && p >= 0 && p <= 65535, "--port must be 0 … 65535, not '", v, "'");
      o.port = int(p);
    } else if (a == "--logdir") {
      o.logdir = value();
    } else if (a == "--host") {
      o.host = value();
    } else {
      std::cerr << usage;
      fail("unknown option '", a, "' for serve");
    }
  }
  // SIGINT/SIGTERM are blocked in every thread and taken by sigwait below, so stopping is orderly.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  WebServer server(o);
  server.start();
  std::cout << "neurona serve: http://" << o.host << ":" << server.port() << "/  (dashboard: /dashboard, "
            << "explorer: /explorer; logdir " << o.logdir.string() << ")" << std::endl;
  if (o.host != "127.0.0.1" && o.host != "localhost" && o.host != "::1")
    std::cout << "warning: listening on " << o.host << ", reachable from other machines" << std::endl;
  int sig = 0;
  sigwait(&set, &sig);
  std::cout << "neurona serve: stopping" << std::endl;
  server.stop();
  return 0;
}

}  // namespace neurona::app
