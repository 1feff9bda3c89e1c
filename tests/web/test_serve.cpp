// API tests of `neurona serve`: the server runs in-process on a free loopback port and is spoken to
// over raw sockets, so malformed requests can be sent as they are.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "neurona/app/config.hpp"
#include "neurona/app/serve.hpp"
#include "neurona/train/model.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

struct Reply {
  int status = 0;
  std::string body;
};

// One HTTP/1.1 request with "Connection: close"; reads until the server closes.
Reply raw_request(int port, const std::string& request) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(uint16_t(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return {};
  }
  size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may refuse a huge body before reading all of it
    sent += size_t(n);
  }
  std::string response;
  char buf[65536];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) response.append(buf, size_t(n));
  ::close(fd);
  Reply r;
  if (response.rfind("HTTP/1.1 ", 0) == 0) r.status = std::atoi(response.c_str() + 9);
  const auto split = response.find("\r\n\r\n");
  if (split != std::string::npos) r.body = response.substr(split + 4);
  return r;
}

Reply http(int port, const std::string& method, const std::string& target, const std::string& body = "",
           const std::string& type = "application/json") {
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  if (!body.empty() || method == "POST")
    req += "Content-Type: " + type + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  return raw_request(port, req + "\r\n" + body);
}

std::string error_of(const Reply& r) {
  try {
    return json::parse(r.body).value("error", "");
  } catch (...) {
    return "";
  }
}

class ServeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    logdir_ = fs::temp_directory_path() / ("neurona-serve-test-" + std::to_string(::getpid()));
    fs::create_directories(logdir_ / "exp/version_0");
    std::ofstream(logdir_ / "exp/version_0/history.json")
        << R"({"epoch":[0,1,2],"loss":[1.0,0.5,0.25],"val_loss":[1.1,0.6,0.4]})";
    std::ofstream(logdir_ / "exp/version_0/config.yaml")
        << "compile:\n  optimizer: {adam: {lr: 0.001}}\nfit: {batch_size: 64, epochs: 10}\n";
    std::ofstream(logdir_ / "secret.txt") << "inside";
    neurona::app::ServeOptions o;
    o.port = 0;
    o.logdir = logdir_;
    server_ = new neurona::app::WebServer(o);
    server_->start();
    port_ = server_->port();
  }
  static void TearDownTestSuite() {
    delete server_;
    fs::remove_all(logdir_);
  }
  static std::string create_session(const std::string& config = "{}") {
    const Reply r = http(port_, "POST", "/api/playground", config);
    EXPECT_EQ(r.status, 201) << r.body.substr(0, 300);
    return json::parse(r.body)["id"].get<std::string>();
  }
  // Writes a session's three export files into `dir`.
  static void export_session(const std::string& id, const fs::path& dir) {
    fs::create_directories(dir);
    for (const char* f : {"config.yaml", "weights.safetensors", "data.csv"}) {
      const Reply r = http(port_, "GET", "/api/playground/" + id + "/export/" + f);
      ASSERT_EQ(r.status, 200) << f;
      std::ofstream(dir / f, std::ios::binary) << r.body;
    }
  }
  static inline neurona::app::WebServer* server_ = nullptr;
  static inline int port_ = 0;
  static inline fs::path logdir_;
};

TEST_F(ServeTest, ServesTheEmbeddedPages) {
  for (const char* page : {"/", "/dashboard", "/explorer", "/static/playground.js", "/static/style.css"}) {
    const Reply r = http(port_, "GET", page);
    EXPECT_EQ(r.status, 200) << page;
    EXPECT_GT(r.body.size(), 200u) << page;
  }
  EXPECT_EQ(http(port_, "GET", "/static/nothing.js").status, 404);
}

TEST_F(ServeTest, MalformedAndOversizedRequestsGet4xxWithAMessage) {
  Reply r = http(port_, "POST", "/api/playground", "{\"dataset\": ");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(error_of(r).find("malformed JSON"), std::string::npos) << r.body;
  r = http(port_, "POST", "/api/explorer/1d", R"({"lr": 1e999})");  // out_of_range, not a parse_error
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(error_of(r).find("malformed JSON"), std::string::npos) << r.body;

  r = http(port_, "POST", "/api/playground", R"({"dataset": "spiral", "colour": "red"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(error_of(r).find("unknown field 'colour'"), std::string::npos) << r.body;

  r = http(port_, "POST", "/api/playground", R"({"networkShape": [8, 9]})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(error_of(r).find("networkShape"), std::string::npos) << r.body;

  r = http(port_, "POST", "/api/playground", R"({"networkShape": [1,1,1,1,1,1,1]})");
  EXPECT_EQ(r.status, 400);

  r = http(port_, "POST", "/api/playground", R"({"learningRate": 1e300})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(error_of(r).find("learningRate"), std::string::npos) << r.body;

  r = http(port_, "POST", "/api/playground", R"({"problem": "regression", "dataset": "spiral"})");
  EXPECT_EQ(r.status, 400);

  r = http(port_, "POST", "/api/playground", "dataset=spiral", "application/x-www-form-urlencoded");
  EXPECT_EQ(r.status, 415);
  EXPECT_FALSE(error_of(r).empty());

  r = http(port_, "POST", "/api/playground", "{\"seed\": 1, \"pad\": \"" + std::string(2 << 20, 'x') + "\"}");
  EXPECT_EQ(r.status, 413);
  EXPECT_FALSE(error_of(r).empty()) << r.body.substr(0, 200);

  r = http(port_, "POST", "/api/playground",
           "{\"seed\": 1, \"pad\": \"" + std::string(100 << 10, 'x') + "\"}");
  EXPECT_EQ(r.status, 413);

  r = http(port_, "GET", "/api/runs?debug=1");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(error_of(r).find("debug"), std::string::npos);

  const std::string id = create_session();
  r = http(port_, "POST", "/api/playground/" + id + "/control", R"({"action": "explode"})");
  EXPECT_EQ(r.status, 400);
  r = http(port_, "POST", "/api/playground/" + id + "/weight",
           R"({"layer": 7, "to": 0, "from": 0, "value": 1})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(error_of(r).find("layer 7"), std::string::npos) << r.body;
  r = http(port_, "GET", "/api/playground/" + id + "/state?from=abc");
  EXPECT_EQ(r.status, 400);
  r = http(port_, "POST", "/api/playground/" + id + "/csv", "1,2\n3,4\n", "text/csv");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(error_of(r).find("CSV line"), std::string::npos) << r.body;
  EXPECT_EQ(http(port_, "GET", "/api/playground/99-1/state").status, 404);
  EXPECT_EQ(http(port_, "DELETE", "/api/playground/" + id).status, 200);
}

// Found by fuzzing: a URL with bytes that are not UTF-8 made the 404 message unencodable as JSON,
// and the exception escaped the handler and ended the server.
TEST_F(ServeTest, UrlsThatAreNotUtf8Get404AndTheServerLives) {
  const Reply r = http(port_, "GET", "/api/expl\xff\xfeorer");
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(error_of(r).find("not found: /api/expl\xef\xbf\xbd\xef\xbf\xbdorer"), std::string::npos)
      << r.body;
  EXPECT_EQ(http(port_, "GET", "/api/health").status, 200);
}

TEST_F(ServeTest, PathsOutsideTheLogDirectoryAreRefused) {
  EXPECT_EQ(http(port_, "GET", "/logs/secret.txt").body, "inside");
  const std::vector<std::string> attacks = {
      "/../../etc/passwd",
      "/logs/../../etc/passwd",
      "/logs/%2e%2e/%2e%2e/etc/passwd",
      "/logs/..%2f..%2fetc%2fpasswd",
      "/logs//etc/passwd",
      "/logs/exp/../../../etc/passwd",
      "/static/../../etc/passwd",
      "/static/..%2f..%2fetc%2fpasswd",
      "/api/run?path=../../etc",
      "/api/run?path=/etc",
      "/api/run?path=exp/../../",
  };
  for (const auto& target : attacks) {
    const Reply r = http(port_, "GET", target);
    EXPECT_GE(r.status, 400) << target;
    EXPECT_LT(r.status, 500) << target;
    EXPECT_EQ(r.body.find("root:"), std::string::npos) << target;
  }
  // A symbolic link inside the log directory that points out of it is refused too.
  std::error_code ec;
  fs::create_directory_symlink("/etc", logdir_ / "escape", ec);
  if (!ec) {
    const Reply r = http(port_, "GET", "/logs/escape/passwd");
    EXPECT_EQ(r.status, 403);
    fs::remove(logdir_ / "escape");
  }
}

TEST_F(ServeTest, PlaygroundTrainsAndExports) {
  const std::string id = create_session(
      R"({"dataset": "spiral", "networkShape": [8, 8], "optimizer": "adam", "learningRate": 0.01, "seed": 1,
          "features": ["x", "y", "xSquared", "ySquared", "xTimesY", "sinX", "sinY"]})");
  double loss = 1e9;
  for (int i = 0; i < 100 && loss >= 0.1; ++i) {
    const Reply r = http(port_, "POST", "/api/playground/" + id + "/control", R"({"action": "step"})");
    ASSERT_EQ(r.status, 200) << r.body;
    loss = json::parse(r.body)["testLoss"].get<double>();
  }
  EXPECT_LT(loss, 0.1);
  const Reply yaml = http(port_, "GET", "/api/playground/" + id + "/export/config.yaml");
  EXPECT_EQ(yaml.status, 200);
  EXPECT_NE(yaml.body.find("- {dense: 8, activation: tanh}"), std::string::npos) << yaml.body;
  EXPECT_NE(yaml.body.find("optimizer: {adam: {lr: 0.01}}"), std::string::npos) << yaml.body;
  const Reply st = http(port_, "GET", "/api/playground/" + id + "/export/weights.safetensors");
  ASSERT_EQ(st.status, 200);
  ASSERT_GT(st.body.size(), 8u);
  uint64_t n = 0;
  std::memcpy(&n, st.body.data(), 8);
  const json header = json::parse(st.body.substr(8, n));
  EXPECT_EQ(header["0.weight"]["shape"], json::array({8, 7}));
  EXPECT_EQ(header["2.weight"]["shape"], json::array({1, 8}));
  const Reply csv = http(port_, "GET", "/api/playground/" + id + "/export/data.csv");
  EXPECT_EQ(csv.body.rfind("x,y,xSquared,ySquared,xTimesY,sinX,sinY,label\n", 0), 0u);
  http(port_, "DELETE", "/api/playground/" + id);
}

// The loss the Playground shows is the loss its export names: `neurona evaluate` of the exported
// config, weights and data prints the same numbers, and retraining from the export takes the same
// steps (the same gradient at the same learning rate).
TEST_F(ServeTest, PlaygroundLossIsTheExportedConfigsLoss) {
  namespace app = neurona::app;
  for (const auto& [problem, dataset] :
       {std::pair{"classification", "circle"}, std::pair{"regression", "reg-plane"}}) {
    const std::string id = create_session(std::string(R"({"seed": 3, "problem": ")") + problem +
                                          R"(", "dataset": ")" + dataset + R"("})");
    // Outside the served logdir, whose runs another test counts.
    const fs::path dir =
        fs::temp_directory_path() / ("neurona-playground-export-" + std::to_string(::getpid()));
    const fs::path start = dir / "start", end = dir / "end";
    export_session(id, start);  // the initial weights
    json state;
    for (int i = 0; i < 3; ++i) {
      const Reply r = http(port_, "POST", "/api/playground/" + id + "/control", R"({"action": "step"})");
      ASSERT_EQ(r.status, 200) << r.body;
      state = json::parse(r.body);
    }
    export_session(id, end);
    http(port_, "DELETE", "/api/playground/" + id);
    EXPECT_EQ(state["lossName"], "MSE") << problem;
    const double train_loss = state["trainLoss"].get<double>(), test_loss = state["testLoss"].get<double>();

    // Evaluated: the exported weights on the exported data. The config names data.csv relative to
    // the working directory, as when a user runs `neurona evaluate` in the export's folder.
    const fs::path cwd = fs::current_path();
    fs::current_path(end);
    const app::Config config = app::load_config("config.yaml");
    const app::PreparedData data = app::load_data(config);
    ASSERT_TRUE(data.val.has_value());
    auto net = app::build_model(config, data.input_shape);
    app::load_weights(end / "weights.safetensors", *net);
    neurona::train::Model model(net);
    model.compile(app::compile_options(config));
    EXPECT_NEAR(model.evaluate(data.train, 1000).at("loss"), train_loss, 1e-5) << problem;
    EXPECT_NEAR(model.evaluate(*data.val, 1000).at("loss"), test_loss, 1e-5) << problem;

    // Retrained: three epochs of the exported config from the initial weights.
    app::TrainRequest req;
    req.init_weights = start / "weights.safetensors";
    req.verbose = 0;
    fs::current_path(start);
    const app::TrainResult r = app::run_training(app::load_config("config.yaml", {"fit.epochs=3"}), req);
    fs::current_path(cwd);
    EXPECT_NEAR(r.history["val_loss"].back(), test_loss, 1e-4) << problem;
    fs::remove_all(dir);
  }
}

TEST_F(ServeTest, FiftySessionsAtOnceStayResponsive) {
  std::vector<std::string> ids;
  for (int i = 0; i < 50; ++i) ids.push_back(create_session(R"({"seed": )" + std::to_string(i) + "}"));
  // Half of them train continuously while every session is stepped: 3 rounds, 150 step requests.
  for (int i = 0; i < 50; i += 2)
    EXPECT_EQ(http(port_, "POST", "/api/playground/" + ids[i] + "/control", R"({"action": "play"})").status,
              200);
  double worst_ms = 0;
  for (int round = 0; round < 3; ++round)
    for (int i = 1; i < 50; i += 2) {
      const auto t0 = std::chrono::steady_clock::now();
      const Reply r = http(port_, "POST", "/api/playground/" + ids[i] + "/control", R"({"action": "step"})");
      const double ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      EXPECT_EQ(r.status, 200);
      worst_ms = std::max(worst_ms, ms);
      // A hang detector, not a speed target: timing assertions do not belong in a suite that
      // runs on shared machines (and under sanitizers). The latency is printed below; the
      // < 100 ms figure of the issue is quoted from a quiet run.
      EXPECT_LT(ms, 5000) << "step of session " << i;
    }
  const Reply h = http(port_, "GET", "/api/health");
  EXPECT_EQ(json::parse(h.body)["sessions"].get<int>(), 50);
  std::printf("50 sessions (25 playing): slowest step answered in %.1f ms\n", worst_ms);
  for (const auto& id : ids) EXPECT_EQ(http(port_, "DELETE", "/api/playground/" + id).status, 200);
}

TEST_F(ServeTest, SessionLimitIsEnforced) {
  neurona::app::ServeOptions o;
  o.port = 0;
  o.max_sessions = 2;
  neurona::app::WebServer small(o);
  small.start();
  EXPECT_EQ(http(small.port(), "POST", "/api/playground", "{}").status, 201);
  EXPECT_EQ(http(small.port(), "POST", "/api/playground", "{}").status, 201);
  const Reply r = http(small.port(), "POST", "/api/playground", "{}");
  EXPECT_EQ(r.status, 429);
  EXPECT_NE(error_of(r).find("too many"), std::string::npos);
}

TEST_F(ServeTest, DashboardListsRunsAndReadsHistory) {
  const json runs = json::parse(http(port_, "GET", "/api/runs").body);
  ASSERT_EQ(runs["runs"].size(), 1u);
  EXPECT_EQ(runs["runs"][0]["name"], "exp/version_0");
  EXPECT_EQ(runs["runs"][0]["hparams"]["lr"], 0.001);
  EXPECT_EQ(runs["runs"][0]["hparams"]["batch_size"], 64);
  EXPECT_EQ(runs["runs"][0]["final"]["best_val_loss"], 0.4);
  // The configured epochs (a hyper-parameter) and the epochs the history holds are two fields
  // with two names, so the hparams table cannot show two "epochs" columns.
  EXPECT_EQ(runs["runs"][0]["hparams"]["epochs"], 10);
  EXPECT_EQ(runs["runs"][0]["epochsRun"], 3);
  EXPECT_FALSE(runs["runs"][0].contains("epochs"));
  const json run = json::parse(http(port_, "GET", "/api/run?path=exp/version_0").body);
  EXPECT_EQ(run["source"], "history.json");
  EXPECT_EQ(run["scalars"]["loss"][2][1], 0.25);
  EXPECT_EQ(run["scalars"]["loss"][2][0], 3);  // epochs are 1-based on the x axis
}

// A run still training has no history.json yet: its history.csv (one line per epoch so far,
// perhaps with a row being written) is what the dashboard lists and plots.
TEST_F(ServeTest, DashboardReadsTheHistoryCsvOfARunStillTraining) {
  const fs::path live = logdir_ / "live/version_0";
  fs::create_directories(live);
  std::ofstream(live / "history.csv") << "epoch,loss,val_loss\n0,1,1.5\n1,0.5,0.75\n2,0.2";
  const json runs = json::parse(http(port_, "GET", "/api/runs").body);
  json found;
  for (const auto& r : runs["runs"])
    if (r["name"] == "live/version_0") found = r;
  fs::remove_all(logdir_ / "live");
  ASSERT_FALSE(found.is_null()) << runs.dump();
  EXPECT_EQ(found["epochsRun"], 2);
  EXPECT_EQ(found["final"]["best_val_loss"], 0.75);
  EXPECT_TRUE(found["hasHistory"].get<bool>());
  fs::create_directories(live);
  std::ofstream(live / "history.csv") << "epoch,loss,val_loss\n0,1,1.5\n1,0.5,0.75\n";
  const json run = json::parse(http(port_, "GET", "/api/run?path=live/version_0").body);
  fs::remove_all(logdir_ / "live");
  EXPECT_EQ(run["source"], "history.csv");
  EXPECT_EQ(run["scalars"]["val_loss"][1][1], 0.75);
}

TEST_F(ServeTest, ExplorerRunsTheOptimizers) {
  // Seed 003: L(w) = (w − 1)² from w = −4 with lr 0.1: the distance shrinks by 0.8 per step.
  const json one = json::parse(http(port_, "POST", "/api/explorer/1d", R"({"lr": 0.1, "steps": 10})").body);
  ASSERT_EQ(one["path"].size(), 11u);
  EXPECT_NEAR(one["path"][10][0].get<double>(), 1 - 5 * std::pow(0.8, 10), 1e-4);
  const json race =
      json::parse(http(port_, "POST", "/api/explorer/race", R"({"surface": "ravine", "steps": 50})").body);
  for (const char* o : {"sgd", "momentum", "rmsprop", "adam"})
    EXPECT_EQ(race["racers"][o]["path"].size(), 51u) << o;
  EXPECT_EQ(http(port_, "POST", "/api/explorer/race", R"({"steps": 100000})").status, 400);
  EXPECT_EQ(http(port_, "POST", "/api/explorer/1d", R"({"lr": 0.1, "wat": 1})").status, 400);
}

}  // namespace

// The Playground's words "momentum" and "nesterov" are presets of the registry's sgd: they train,
// and the exported config writes them as sgd with their options.
TEST_F(ServeTest, PlaygroundOptimizerPresetsAreSgdOfTheRegistry) {
  for (const auto& [word, written] : std::vector<std::pair<std::string, std::string>>{
           {"momentum", "optimizer: {sgd: {lr: 0.03, momentum: 0.9}}"},
           {"nesterov", "optimizer: {sgd: {lr: 0.03, momentum: 0.9, nesterov: true}}"},
           {"rmsprop", "optimizer: {rmsprop: {lr: 0.03}}"}}) {
    SCOPED_TRACE(word);
    const std::string id =
        create_session(R"({"dataset": "xor", "optimizer": ")" + word + R"(", "learningRate": 0.03})");
    const Reply r = http(port_, "POST", "/api/playground/" + id + "/control", R"({"action": "step"})");
    ASSERT_EQ(r.status, 200) << r.body;
    const Reply yaml = http(port_, "GET", "/api/playground/" + id + "/export/config.yaml");
    EXPECT_NE(yaml.body.find(written), std::string::npos) << yaml.body;
  }
}
