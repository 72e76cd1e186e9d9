// Runs n tasks in parallel on whatever the host chose: the runtime's own pool, the
// host's job system, or just the calling thread. Task i always computes the same slice
// of output whoever runs it, so results never depend on the thread count.
#pragma once
#include "smallmind/smallmind.h"
#include <atomic>
#include <cstdint>
#include <thread>

namespace sm {

using TaskFn = void (*)(void *ctx, int task);

// A fixed pool: threads are made at creation, then each parallel_for wakes them with an
// atomic generation counter. Workers spin briefly (a decode issues a parallel_for every
// few microseconds), then sleep on a futex; the hot path takes no lock.
class ThreadPool {
public:
    static constexpr int kMaxThreads = 64;
    // n_workers threads besides the caller.
    bool start(int n_workers);
    void stop();
    int workers() const { return n_workers_; }
    void parallel_for(TaskFn fn, void *ctx, int n_tasks);
    // While held, idle workers spin instead of sleeping: the caller is inside a step and
    // will hand out more work within microseconds. A futex wake-up costs far more on a
    // VM (an idle vCPU is halted), and a late worker stalls the next hand-off.
    void hold() { held_.fetch_add(1, std::memory_order_relaxed); }
    void release() { held_.fetch_sub(1, std::memory_order_relaxed); }

private:
    void worker_main(int index);
    void run_tasks(uint32_t job);

    std::thread threads_[kMaxThreads];
    int n_workers_ = 0;
    alignas(64) std::atomic<uint32_t> generation_{0};
    // job << 32 | task count << 16 | next task: a worker late from an old job can never
    // take a task of the next one, because its compare-exchange carries the job number.
    alignas(64) std::atomic<uint64_t> work_{0};
    alignas(64) std::atomic<int> tasks_done_{0};
    alignas(64) std::atomic<int> sleepers_{0};
    std::atomic<int> held_{0};
    std::atomic<bool> quit_{false};
    // Atomics only so a late worker of the previous job reads them race-free.
    std::atomic<TaskFn> fn_{nullptr};
    std::atomic<void *> ctx_{nullptr};
};

class Parallel {
public:
    void use_pool(ThreadPool *pool) {
        pool_ = pool;
        jobs_ = nullptr;
    }
    void use_jobs(const sm_job_system *jobs) {
        jobs_ = jobs;
        pool_ = nullptr;
    }
    // Tasks worth making per call.
    int width() const;
    void run(TaskFn fn, void *ctx, int n_tasks) const;
    // Keeps the pool's workers spinning between the hand-offs of one step (see ThreadPool).
    class Hold {
    public:
        explicit Hold(const Parallel *p) : pool_(p ? p->pool_ : nullptr) {
            if (pool_) pool_->hold();
        }
        ~Hold() {
            if (pool_) pool_->release();
        }
        Hold(const Hold &) = delete;
        Hold &operator=(const Hold &) = delete;

    private:
        ThreadPool *pool_;
    };

private:
    ThreadPool *pool_ = nullptr;
    const sm_job_system *jobs_ = nullptr;
};

} // namespace sm
