#include <catch2/catch.hpp>

#include "core/arena.h"
#include "core/bump.h"
#include "core/parallel.h"

#include <atomic>
#include <cstring>
#include <vector>

using namespace sm;

TEST_CASE("arena: first fit, reuse after free, 64-byte alignment", "[core]") {
    Arena a;
    REQUIRE(a.init(1 << 20, nullptr));
    void *p = a.alloc(1000), *q = a.alloc(3000), *r = a.alloc(5);
    REQUIRE(p);
    REQUIRE(q);
    REQUIRE(r);
    CHECK(reinterpret_cast<uintptr_t>(p) % 64 == 0);
    CHECK(reinterpret_cast<uintptr_t>(q) % 64 == 0);
    CHECK(a.used() == align_up(1000, 64) + align_up(3000, 64) + 64);
    a.free(q);
    void *s = a.alloc(2000); // fits in q's hole
    CHECK(s == q);
    CHECK(a.alloc(2u << 20) == nullptr); // larger than the budget
    a.free(p);
    a.free(r);
    a.free(s);
    CHECK(a.used() == 0);
    CHECK(a.largest_free() == a.budget());
    a.release();
}

TEST_CASE("bump: measuring gives the same size as building", "[core]") {
    auto layout = [](Bump &b) {
        b.take_n<float>(17);
        b.take(3, 1);
        b.take_n<double>(5);
    };
    Bump m = Bump::measuring();
    layout(m);
    std::vector<uint8_t> buf(m.used + 64);
    uint8_t *base = buf.data() + (64 - reinterpret_cast<uintptr_t>(buf.data()) % 64) % 64;
    Bump b = Bump::over(base, m.used);
    layout(b);
    CHECK(b.used == m.used);
    CHECK_FALSE(b.overflowed());
}

TEST_CASE("thread pool: every task runs exactly once, many times over", "[core]") {
    ThreadPool pool;
    pool.start(3);
    Parallel par;
    par.use_pool(&pool);
    CHECK(par.width() == 4);
    std::vector<std::atomic<int>> hits(37);
    struct Ctx {
        std::vector<std::atomic<int>> *hits;
    } ctx{&hits};
    for (int round = 0; round < 2000; round++) {
        int n = 1 + round % 37;
        par.run([](void *c, int t) { (*static_cast<Ctx *>(c)->hits)[static_cast<size_t>(t)]++; }, &ctx, n);
    }
    long total = 0;
    for (auto &h : hits) total += h.load();
    long expect = 0;
    for (int round = 0; round < 2000; round++) expect += 1 + round % 37;
    CHECK(total == expect);
    pool.stop();
}
