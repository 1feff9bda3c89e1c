// `neurona serve`: the HTTP routes (cpp-httplib), request validation and the command line.
#include <httplib.h>

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
  res.set_content(j.dump(), "application/json");
}

void send_error(httplib::Response& res, int status, const std::string& message) {
  send_json(res, {{"error", message}}, status);
}

json parse_json(const httplib::Request& req) {
  if (req.body.size() > kMaxJson) throw HttpError(413, "the JSON body is larger than 64 KiB");
  try {
    return json::parse(req.body);
  } catch (const json::parse_error& e) {
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

}  // namespace

struct WebServer::Impl {
  ServeOptions options;
  httplib::Server http;
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
    http.set_read_timeout(5);
    http.set_write_timeout(5);
    // Enough workers for the page's parallel requests plus many sessions' step requests.
    http.new_task_queue = [] { return new httplib::ThreadPool(24); };
    http.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty()) return;
      const std::string msg = res.status == 413   ? "the request body is too large (1 MiB at most)"
                              : res.status == 404 ? "not found: " + req.path
                                                  : "bad request";
      send_error(res, res.status, msg);
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
