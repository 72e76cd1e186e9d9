// The host's allocator and job system plugged into the runtime (Jolt style): the arena
// comes from the host, the parallel work runs on the host's threads, and the tokens are
// the same as on the runtime's own threads.
#include <catch2/catch.hpp>

#include "model_fixture.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

namespace {

struct HostAllocator {
    int allocs = 0, frees = 0;
    size_t bytes = 0;
    static void *alloc(void *u, size_t n, size_t align) {
        auto *h = static_cast<HostAllocator *>(u);
        h->allocs++;
        h->bytes += n;
        void *p = nullptr;
        return posix_memalign(&p, align, n) == 0 ? p : nullptr;
    }
    static void release(void *u, void *p) {
        static_cast<HostAllocator *>(u)->frees++;
        free(p);
    }
};

// A toy job system: the calling thread and one helper thread split the tasks.
struct HostJobs {
    std::atomic<int> calls{0}, helper_tasks{0};
    // The helper thread takes the odd tasks and the caller the even ones: a fixed split, so
    // the helper's share never depends on how fast a thread starts (with tasks claimed
    // from a shared counter, the caller could finish them all first on a busy machine).
    static void parallel_for(void *u, void (*fn)(void *, int), void *ctx, int n) {
        auto *h = static_cast<HostJobs *>(u);
        h->calls++;
        auto work = [&](int first, bool helper) {
            for (int t = first; t < n; t += 2) {
                fn(ctx, t);
                if (helper) h->helper_tasks++;
            }
        };
        std::thread other(work, 1, true);
        work(0, false);
        other.join();
    }
};

std::vector<int32_t> generate(sm_runtime_desc d) {
    const std::string path = smtest::stories_path("gguf"); // before the runtime: a missing file fails here, leaking nothing
    sm_runtime *rt = nullptr;
    REQUIRE(sm_runtime_create(&d, &rt) == SM_OK);
    sm_model *m = nullptr;
    REQUIRE(sm_model_load(rt, path.c_str(), nullptr, nullptr, &m) == SM_OK);
    sm_session_desc sd = sm_session_desc_default();
    sd.sampler.seed = 9;
    sd.max_tokens = 40;
    sd.stop_at_eos = 0;
    sm_session *s = nullptr;
    REQUIRE(sm_session_create(m, &sd, &s) == SM_OK);
    REQUIRE(sm_session_submit_text(s, "Once upon a time", 16) == SM_OK);
    std::vector<int32_t> out;
    sm_step_result r;
    do {
        REQUIRE(sm_session_step(s, 0, &r) == SM_OK);
        out.insert(out.end(), r.tokens, r.tokens + r.n_tokens);
    } while (r.finish == SM_FINISH_NONE);
    sm_session_destroy(s);
    sm_model_destroy(m);
    sm_runtime_destroy(rt);
    return out;
}

} // namespace

TEST_CASE("host hooks: the arena comes from the host's allocator, once", "[api]") {
    HostAllocator h;
    sm_allocator a{HostAllocator::alloc, HostAllocator::release, &h};
    sm_runtime_desc d = sm_runtime_desc_default();
    d.memory_budget = size_t(16) << 20;
    d.allocator = &a;
    const auto tokens = generate(d);
    CHECK(tokens.size() == 40);
    CHECK(h.allocs == 1);
    CHECK(h.frees == 1);
    CHECK(h.bytes == size_t(16) << 20);
}

TEST_CASE("host hooks: work runs on the host's job system with the same tokens", "[api]") {
    sm_runtime_desc d = sm_runtime_desc_default();
    d.memory_budget = size_t(16) << 20;
    const auto alone = generate(d);
    HostJobs jobs;
    sm_job_system js{HostJobs::parallel_for, 2, &jobs};
    d.jobs = &js;
    const auto hosted = generate(d);
    CHECK(hosted == alone);
    CHECK(jobs.calls > 0);
    CHECK(jobs.helper_tasks > 0);
}
