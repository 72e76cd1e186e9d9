#include "core/parallel.h"
#include "core/clock.h"
#include "core/futex.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace sm {

namespace {

inline void cpu_relax() {
#if defined(__x86_64__)
    _mm_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#endif
}

// A decode issues a parallel_for every few tens of microseconds: spinning that long
// avoids a futex round trip per call; longer would burn the game's CPU time.
constexpr uint64_t kSpinNs = 50000;

} // namespace

bool ThreadPool::start(int n_workers) {
    generation_.store(0);
    work_.store(0);
    if (n_workers < 0) n_workers = 0;
    if (n_workers > kMaxThreads) n_workers = kMaxThreads;
    quit_ = false;
    for (int i = 0; i < n_workers; i++) {
        threads_[i] = std::thread(&ThreadPool::worker_main, this, i);
        n_workers_ = i + 1;
    }
    return true;
}

void ThreadPool::stop() {
    if (!n_workers_) return;
    quit_.store(true, std::memory_order_release);
    work_.store(0, std::memory_order_release);
    generation_.fetch_add(1, std::memory_order_acq_rel);
    futex_wake_all(&generation_);
    for (int i = 0; i < n_workers_; i++) threads_[i].join();
    n_workers_ = 0;
}

void ThreadPool::run_tasks(uint32_t job) {
    uint64_t w = work_.load(std::memory_order_acquire);
    for (;;) {
        if (static_cast<uint32_t>(w >> 32) != job) return;
        uint32_t t = static_cast<uint32_t>(w & 0xffff), n = static_cast<uint32_t>((w >> 16) & 0xffff);
        if (t >= n) return;
        if (!work_.compare_exchange_weak(w, w + 1, std::memory_order_acq_rel, std::memory_order_acquire)) continue;
        fn_.load(std::memory_order_acquire)(ctx_.load(std::memory_order_acquire), static_cast<int>(t));
        tasks_done_.fetch_add(1, std::memory_order_acq_rel);
        w = work_.load(std::memory_order_acquire);
    }
}

void ThreadPool::worker_main(int) {
    // Starts from generation 0, not a fresh load: a thread scheduled late must still see
    // every job (and the stop) published since the pool was made.
    uint32_t seen = 0;
    for (;;) {
        uint32_t g;
        uint64_t spin_start = now_ns();
        int spins = 0;
        while ((g = generation_.load(std::memory_order_acquire)) == seen) {
            if ((++spins & 63) || now_ns() - spin_start < kSpinNs) {
                cpu_relax();
                continue;
            }
            if (held_.load(std::memory_order_relaxed) > 0) {
                spin_start = now_ns();
                continue;
            }
            sleepers_.fetch_add(1, std::memory_order_seq_cst);
            // Re-check after announcing: the publisher wakes only if it sees a sleeper.
            if (generation_.load(std::memory_order_seq_cst) == seen) futex_wait(&generation_, seen);
            sleepers_.fetch_sub(1, std::memory_order_acq_rel);
            spin_start = now_ns();
        }
        seen = g;
        if (quit_.load(std::memory_order_acquire)) return;
        run_tasks(g);
    }
}

void ThreadPool::parallel_for(TaskFn fn, void *ctx, int n_tasks) {
    if (n_tasks <= 0) return;
    if (n_tasks > 0xffff) n_tasks = 0xffff; // callers split work into far fewer tasks
    if (n_workers_ == 0 || n_tasks == 1) {
        for (int t = 0; t < n_tasks; t++) fn(ctx, t);
        return;
    }
    uint32_t job = generation_.load(std::memory_order_relaxed) + 1;
    fn_.store(fn, std::memory_order_release);
    ctx_.store(ctx, std::memory_order_release);
    tasks_done_.store(0, std::memory_order_release);
    work_.store(static_cast<uint64_t>(job) << 32 | static_cast<uint64_t>(n_tasks) << 16, std::memory_order_release);
    generation_.store(job, std::memory_order_seq_cst);
    // seq_cst pairs with the sleeper's increment-then-recheck (a store-load handshake).
    if (sleepers_.load(std::memory_order_seq_cst) > 0) futex_wake_all(&generation_);
    run_tasks(job);
    while (tasks_done_.load(std::memory_order_acquire) < n_tasks) cpu_relax();
}

int Parallel::width() const {
    if (jobs_) return jobs_->max_parallelism > 0 ? jobs_->max_parallelism : 1;
    if (pool_) return pool_->workers() + 1;
    return 1;
}

void Parallel::run(TaskFn fn, void *ctx, int n_tasks) const {
    if (n_tasks <= 0) return;
    if (jobs_ && n_tasks > 1) jobs_->parallel_for(jobs_->user, fn, ctx, n_tasks);
    else if (pool_) pool_->parallel_for(fn, ctx, n_tasks);
    else
        for (int t = 0; t < n_tasks; t++) fn(ctx, t);
}

} // namespace sm
