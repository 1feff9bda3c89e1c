#pragma once
// The processes of a data-parallel run and what they exchange: rank and world size, broadcast and
// a sum-allreduce of float and double buffers, on MPI (Open MPI) when the program was started by
// an MPI launcher (mpirun, Slurm's srun). Started any other way, the process is a world of one and
// MPI is never initialised, so a plain run behaves as it would without MPI.
//
// The calling thread makes every MPI call (one thread per process does; MPI_THREAD_FUNNELED).
// Every wait polls its requests (Debian's Open MPI makes no progress in the background) against a
// deadline: a collective stalled past it — a rank died, hangs or took another path — aborts the
// whole job with a message naming the rank waited for (the watchdog; docs/ARCHITECTURE.md).
#include <cstdint>
#include <string>
#include <vector>

namespace neurona::dist {

// Whether this Neurona was built with MPI (the CMake option NEURONA_MPI).
bool mpi_built();
// Whether an MPI launcher started this process: its environment has the rank (Open MPI's
// OMPI_COMM_WORLD_RANK, PMIx's PMIX_RANK, PMI's PMI_RANK).
bool launched_by_mpi();

// What the communicator measured: allreduce calls, the bytes they reduced (per process) and the
// seconds they took, for the benchmark and the logs.
struct CommStats {
  int64_t allreduce_calls = 0;
  int64_t allreduce_bytes = 0;
  double allreduce_seconds = 0;
};

class Communicator {
 public:
  // The world of this process: initialises MPI on the first call when launched by MPI (and
  // finalises it at exit); a world of one otherwise. Throws when launched by MPI with more than one
  // process but built without it.
  static Communicator& world();

  int rank() const { return rank_; }
  int size() const { return size_; }
  // Processes of this job on this machine (Open MPI's OMPI_COMM_WORLD_LOCAL_SIZE; 1 when unknown).
  int local_size() const { return local_size_; }
  bool is_root() const { return rank_ == 0; }

  // Seconds a collective may wait for the other ranks before the job is aborted (default 30, or
  // NEURONA_DDP_TIMEOUT). Every rank should use the same value.
  void set_timeout(double seconds);
  double timeout() const { return timeout_; }

  // `data[0..n)` of `root` on every rank.
  void broadcast(float* data, int64_t n, int root = 0);
  void broadcast(double* data, int64_t n, int root = 0);
  void broadcast(std::string& text, int root = 0);
  // Element-wise sums over the ranks, in place. A ring (reduce-scatter, then all-gather): each
  // element is summed once, in an order fixed by its position and the world size, and copied to
  // the others, so every rank ends with the same bits and a run repeats them exactly.
  void allreduce_sum(float* data, int64_t n);
  void allreduce_sum(double* data, int64_t n);
  void barrier();

  // Ends the whole job now: prints `message` (prefixed with this rank) and calls MPI_Abort; in a
  // world of one, prints and exits.
  [[noreturn]] void abort(const std::string& message, int code = 1);

  const CommStats& stats() const { return stats_; }
  void reset_stats() { stats_ = {}; }

  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;

 private:
  Communicator();
  template <class T>
  void ring_allreduce(T* data, int64_t n);
  template <class T>
  void bcast(T* data, int64_t n, int root);
  // Polls the requests of one collective until they complete; aborts the job past the deadline.
  void wait(void* requests, int count, const char* what, int peer, double extra_seconds = 0);

  int rank_ = 0, size_ = 1, local_size_ = 1;
  bool mpi_ = false;
  double timeout_ = 30;
  int64_t collective_ = 0;  // collectives issued, for messages
  CommStats stats_;
  std::vector<char> scratch_;
};

}  // namespace neurona::dist
