// SmallMind C++ wrapper: RAII ownership of the C handles, nothing more. Errors stay
// status codes (no exceptions); every call maps one to one onto smallmind.h.
#pragma once
#include "smallmind/smallmind.h"

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>

namespace smallmind {

template <class T, void (*Destroy)(T *)> class Handle {
public:
    Handle() = default;
    explicit Handle(T *p) : p_(p) {}
    Handle(const Handle &) = delete;
    Handle &operator=(const Handle &) = delete;
    Handle(Handle &&o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
    Handle &operator=(Handle &&o) noexcept {
        if (this != &o) reset(std::exchange(o.p_, nullptr));
        return *this;
    }
    ~Handle() { reset(); }
    void reset(T *p = nullptr) {
        if (p_) Destroy(p_);
        p_ = p;
    }
    T *get() const { return p_; }
    T **out() { reset(); return &p_; }
    explicit operator bool() const { return p_ != nullptr; }

private:
    T *p_ = nullptr;
};

class Runtime {
public:
    sm_status create(const sm_runtime_desc &d) { return sm_runtime_create(&d, h_.out()); }
    sm_runtime *get() const { return h_.get(); }
    const char *last_error() const { return sm_last_error(h_.get()); }
    const char *isa() const { return sm_runtime_isa(h_.get()); }

private:
    Handle<sm_runtime, sm_runtime_destroy> h_;
};

class Model {
public:
    sm_status load(const Runtime &rt, const char *path, const sm_model_desc *d = nullptr, const char *tokenizer = nullptr) {
        return sm_model_load(rt.get(), path, tokenizer, d, h_.out());
    }
    sm_model *get() const { return h_.get(); }
    sm_model_info info() const {
        sm_model_info i{};
        sm_model_get_info(h_.get(), &i);
        return i;
    }
    sm_status step(uint32_t budget_us, uint32_t *units = nullptr) { return sm_model_step(h_.get(), budget_us, units); }
    sm_status tokenize(std::string_view text, uint32_t flags, int32_t *out, size_t cap, size_t *n) {
        return sm_tokenize(h_.get(), text.data(), text.size(), flags, out, cap, n);
    }
    sm_status start_async() { return sm_model_start_async(h_.get()); }
    sm_status stop_async() { return sm_model_stop_async(h_.get()); }

private:
    Handle<sm_model, sm_model_destroy> h_;
};

class Session {
public:
    sm_status create(const Model &m, const sm_session_desc *d = nullptr) { return sm_session_create(m.get(), d, h_.out()); }
    sm_session *get() const { return h_.get(); }
    sm_status submit(std::string_view text) { return sm_session_submit_text(h_.get(), text.data(), text.size()); }
    sm_status submit(const int32_t *tokens, size_t n) { return sm_session_submit_tokens(h_.get(), tokens, n); }
    sm_status step(uint32_t budget_us, sm_step_result *r) { return sm_session_step(h_.get(), budget_us, r); }
    sm_status poll(sm_step_result *r) { return sm_session_poll(h_.get(), r); }
    sm_status cancel() { return sm_session_cancel(h_.get()); }
    sm_status reset() { return sm_session_reset(h_.get()); }
    sm_status eval(const int32_t *t, size_t n, float *logits, size_t cap) { return sm_session_eval(h_.get(), t, n, logits, cap); }
    sm_status save(void *buf, size_t cap, size_t *size) const { return sm_session_save(h_.get(), buf, cap, size); }
    sm_status load(const void *buf, size_t size) { return sm_session_load(h_.get(), buf, size); }

private:
    Handle<sm_session, sm_session_destroy> h_;
};

} // namespace smallmind
