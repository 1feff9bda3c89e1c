#include "neurona/dist/communicator.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "neurona/core/error.hpp"

#ifdef NEURONA_WITH_MPI
#include <mpi.h>
#endif

namespace neurona::dist {
namespace {

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  char* end = nullptr;
  const long n = std::strtol(v, &end, 10);
  return end != v && *end == '\0' ? static_cast<int>(n) : fallback;
}

// The world size a launcher announced, or 0.
[[maybe_unused]] int launcher_world_size() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "PMI_SIZE"}) {
    const int n = env_int(name, 0);
    if (n > 0) return n;
  }
  return 0;
}

#ifdef NEURONA_WITH_MPI
template <class T>
MPI_Datatype mpi_type();
template <>
MPI_Datatype mpi_type<float>() {
  return MPI_FLOAT;
}
template <>
MPI_Datatype mpi_type<double>() {
  return MPI_DOUBLE;
}
template <>
MPI_Datatype mpi_type<char>() {
  return MPI_CHAR;
}

// MPI counts are int: longer buffers go in pieces of this many elements.
constexpr int64_t kMaxCount = int64_t{1} << 30;

// Finalises MPI at exit, after everything else of the program ran.
struct Finalizer {
  ~Finalizer() {
    int init = 0, fin = 0;
    MPI_Initialized(&init);
    MPI_Finalized(&fin);
    if (init && !fin) MPI_Finalize();
  }
};
#endif

}  // namespace

bool mpi_built() {
#ifdef NEURONA_WITH_MPI
  return true;
#else
  return false;
#endif
}

bool launched_by_mpi() {
  for (const char* name : {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"})
    if (std::getenv(name) != nullptr) return true;
  return false;
}

Communicator& Communicator::world() {
  static Communicator c;
  return c;
}

Communicator::Communicator() {
  if (const char* t = std::getenv("NEURONA_DDP_TIMEOUT")) {
    char* end = nullptr;
    const double s = std::strtod(t, &end);
    check(end != t && *end == '\0' && s > 0, "NEURONA_DDP_TIMEOUT: expected seconds > 0, got '", t, "'");
    timeout_ = s;
  }
  if (!launched_by_mpi()) return;
#ifdef NEURONA_WITH_MPI
  static Finalizer finalizer;  // constructed before MPI_Init, so destroyed after every later static
  int provided = 0;
  MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
  // A failing call ends the job (MPI's default handler); the watchdog covers calls that never end.
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  mpi_ = true;
  local_size_ = std::max(1, env_int("OMPI_COMM_WORLD_LOCAL_SIZE", env_int("SLURM_NTASKS_PER_NODE", 1)));
#else
  const int n = launcher_world_size();
  check(n <= 1, "this process is one of ", n,
        " started by an MPI launcher, but this Neurona was built without MPI (NEURONA_MPI=OFF): each "
        "would train alone; rebuild with -DNEURONA_MPI=ON");
#endif
}

void Communicator::set_timeout(double seconds) {
  check(seconds > 0, "Communicator: the timeout must be > 0 seconds, got ", seconds);
  timeout_ = seconds;
}

void Communicator::abort(const std::string& message, int code) {
  std::fprintf(stderr, "neurona: rank %d of %d: %s\n", rank_, size_, message.c_str());
  std::fflush(stderr);
#ifdef NEURONA_WITH_MPI
  if (mpi_) MPI_Abort(MPI_COMM_WORLD, code);
#endif
  std::exit(code);
}

void Communicator::wait(void* requests, int count, const char* what, int peer, double extra_seconds) {
#ifdef NEURONA_WITH_MPI
  auto* reqs = static_cast<MPI_Request*>(requests);
  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + std::chrono::duration<double>(timeout_ + extra_seconds);
  for (int spins = 0;; ++spins) {
    int done = 0;
    MPI_Testall(count, reqs, &done, MPI_STATUSES_IGNORE);
    if (done) return;
    // Spin briefly (a partner that is a few microseconds late), then yield the core: ranks may
    // share cores with each other and with the compute threads.
    if (spins > 64) {
      if ((spins & 63) == 0 && std::chrono::steady_clock::now() > deadline) {
        char buf[320];
        std::snprintf(
            buf, sizeof buf,
            "%s (collective %lld) waited %.1f s for rank %d, which sent nothing: it died, hangs, or "
            "left the training loop early; aborting the job (the timeout is fit.ddp_timeout or "
            "NEURONA_DDP_TIMEOUT)",
            what, static_cast<long long>(collective_), timeout_ + extra_seconds, peer);
        abort(buf, 14);
      }
      if (spins > 4096)
        std::this_thread::sleep_for(std::chrono::microseconds(20));
      else
        std::this_thread::yield();
    }
  }
#else
  (void)requests, (void)count, (void)what, (void)peer, (void)extra_seconds;
#endif
}

template <class T>
void Communicator::bcast(T* data, int64_t n, int root) {
  if (size_ == 1 || n == 0) return;
  ++collective_;
#ifdef NEURONA_WITH_MPI
  for (int64_t off = 0; off < n; off += kMaxCount) {
    MPI_Request req;
    MPI_Ibcast(data + off, static_cast<int>(std::min(kMaxCount, n - off)), mpi_type<T>(), root,
               MPI_COMM_WORLD, &req);
    wait(&req, 1, "broadcast", root);
  }
#else
  (void)data, (void)root;
#endif
}

void Communicator::broadcast(float* data, int64_t n, int root) { bcast(data, n, root); }
void Communicator::broadcast(double* data, int64_t n, int root) { bcast(data, n, root); }

void Communicator::broadcast(std::string& text, int root) {
  if (size_ == 1) return;
  double len = static_cast<double>(text.size());
  bcast(&len, 1, root);
  text.resize(static_cast<size_t>(len));
  bcast(text.data(), static_cast<int64_t>(text.size()), root);
}

void Communicator::barrier() {
  if (size_ == 1) return;
  ++collective_;
#ifdef NEURONA_WITH_MPI
  MPI_Request req;
  MPI_Ibarrier(MPI_COMM_WORLD, &req);
  wait(&req, 1, "barrier", 0);
#endif
}

// The ring: with chunks c = 0..N-1 of the buffer, step s of the reduce-scatter sends chunk
// (r - s) to the right neighbour and adds chunk (r - s - 1) received from the left one; after N-1
// steps rank r holds the total of chunk (r + 1), summed in the order c, c+1, …, c-1 of the ranks.
// The all-gather then passes each finished chunk around the ring unchanged.
template <class T>
void Communicator::ring_allreduce(T* data, int64_t n) {
  if (size_ == 1 || n == 0) return;
  ++collective_;
  const auto t0 = std::chrono::steady_clock::now();
#ifdef NEURONA_WITH_MPI
  const int N = size_, r = rank_;
  const int right = (r + 1) % N, left = (r + N - 1) % N;
  std::vector<int64_t> off(static_cast<size_t>(N) + 1);
  for (int c = 0; c <= N; ++c) off[c] = n * c / N;
  int64_t longest = 0;
  for (int c = 0; c < N; ++c) longest = std::max(longest, off[c + 1] - off[c]);
  check(longest <= kMaxCount, "allreduce: ", n, " elements is too many for one call; split the buffer");
  scratch_.resize(static_cast<size_t>(longest) * sizeof(T));
  T* recv = reinterpret_cast<T*>(scratch_.data());
  auto chunk = [&](int c) { return ((c % N) + N) % N; };
  for (int s = 0; s < N - 1; ++s) {
    const int send_c = chunk(r - s), recv_c = chunk(r - s - 1);
    MPI_Request reqs[2];
    MPI_Irecv(recv, static_cast<int>(off[recv_c + 1] - off[recv_c]), mpi_type<T>(), left, s, MPI_COMM_WORLD,
              &reqs[0]);
    MPI_Isend(data + off[send_c], static_cast<int>(off[send_c + 1] - off[send_c]), mpi_type<T>(), right, s,
              MPI_COMM_WORLD, &reqs[1]);
    // A rank stalled at step s + 1 waits on one that is itself waiting: the later steps get a
    // little longer, so the rank behind the one that stopped reports first and names it.
    wait(reqs, 2, "allreduce", left, 0.5 * s);
    T* dst = data + off[recv_c];
    const int64_t len = off[recv_c + 1] - off[recv_c];
    for (int64_t i = 0; i < len; ++i) dst[i] = recv[i] + dst[i];
  }
  for (int s = 0; s < N - 1; ++s) {
    const int send_c = chunk(r + 1 - s), recv_c = chunk(r - s);
    MPI_Request reqs[2];
    MPI_Irecv(data + off[recv_c], static_cast<int>(off[recv_c + 1] - off[recv_c]), mpi_type<T>(), left, N + s,
              MPI_COMM_WORLD, &reqs[0]);
    MPI_Isend(data + off[send_c], static_cast<int>(off[send_c + 1] - off[send_c]), mpi_type<T>(), right,
              N + s, MPI_COMM_WORLD, &reqs[1]);
    wait(reqs, 2, "allreduce", left, 0.5 * (N - 1 + s));
  }
#else
  (void)data;
#endif
  stats_.allreduce_calls += 1;
  stats_.allreduce_bytes += n * static_cast<int64_t>(sizeof(T));
  stats_.allreduce_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void Communicator::allreduce_sum(float* data, int64_t n) { ring_allreduce(data, n); }
void Communicator::allreduce_sum(double* data, int64_t n) { ring_allreduce(data, n); }

}  // namespace neurona::dist
