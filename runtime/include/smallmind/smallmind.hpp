// SmallMind C++ wrapper: ownership of the C handles, nothing more. Errors stay status
// codes (no exceptions); every call maps one to one onto smallmind.h.
//
// Lifetimes cannot be got wrong: a Model keeps its Runtime alive and a Session keeps its
// Model alive (shared ownership), so objects may be declared and destroyed in any order;
// the C objects are destroyed child first when the last owner goes. create / load on an
// object that already holds a handle fail with SM_ERR_STATE instead of replacing it.
#pragma once
#include "smallmind/smallmind.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <utility>

namespace smallmind {

class Runtime {
public:
    sm_status create(const sm_runtime_desc &d) {
        if (h_) return SM_ERR_STATE;
        sm_runtime *p = nullptr;
        const sm_status st = sm_runtime_create(&d, &p);
        if (st == SM_OK) h_.reset(p, [](sm_runtime *r) { sm_runtime_destroy(r); });
        return st;
    }
    sm_runtime *get() const { return h_.get(); }
    explicit operator bool() const { return h_ != nullptr; }
    const char *last_error() const { return sm_last_error(h_.get()); }
    const char *isa() const { return sm_runtime_isa(h_.get()); }
    // Drops this owner; the runtime goes when its models have gone too.
    void release() { h_.reset(); }

private:
    friend class Model;
    std::shared_ptr<sm_runtime> h_;
};

class Model {
public:
    sm_status load(const Runtime &rt, const char *path, const sm_model_desc *d = nullptr, const char *tokenizer = nullptr) {
        if (h_) return SM_ERR_STATE;
        if (!rt.h_) return SM_ERR_INVALID_ARGUMENT;
        sm_model *p = nullptr;
        const sm_status st = sm_model_load(rt.get(), path, tokenizer, d, &p);
        // The deleter holds the runtime: it outlives the model whatever the declaration order.
        if (st == SM_OK) h_.reset(p, [keep = rt.h_](sm_model *m) { sm_model_destroy(m); });
        return st;
    }
    sm_model *get() const { return h_.get(); }
    explicit operator bool() const { return h_ != nullptr; }
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
    // Drops this owner; the model goes when its sessions have gone too.
    void release() { h_.reset(); }

private:
    friend class Session;
    std::shared_ptr<sm_model> h_;
};

class Session {
public:
    Session() = default;
    Session(const Session &) = delete;
    Session &operator=(const Session &) = delete;
    Session(Session &&o) noexcept : h_(std::exchange(o.h_, nullptr)), model_(std::move(o.model_)) {}
    Session &operator=(Session &&o) noexcept {
        if (this != &o) {
            release();
            h_ = std::exchange(o.h_, nullptr);
            model_ = std::move(o.model_);
        }
        return *this;
    }
    ~Session() { release(); }

    sm_status create(const Model &m, const sm_session_desc *d = nullptr) {
        if (h_) return SM_ERR_STATE;
        if (!m.h_) return SM_ERR_INVALID_ARGUMENT;
        const sm_status st = sm_session_create(m.get(), d, &h_);
        if (st == SM_OK) model_ = m.h_;
        return st;
    }
    // Destroys the session (first), then drops its hold on the model.
    void release() {
        if (h_) sm_session_destroy(h_);
        h_ = nullptr;
        model_.reset();
    }
    sm_session *get() const { return h_; }
    explicit operator bool() const { return h_ != nullptr; }
    sm_status submit(std::string_view text) { return sm_session_submit_text(h_, text.data(), text.size()); }
    sm_status submit(const int32_t *tokens, size_t n) { return sm_session_submit_tokens(h_, tokens, n); }
    sm_status step(uint32_t budget_us, sm_step_result *r) { return sm_session_step(h_, budget_us, r); }
    sm_status poll(sm_step_result *r) { return sm_session_poll(h_, r); }
    sm_status cancel() { return sm_session_cancel(h_); }
    sm_status reset() { return sm_session_reset(h_); } // forget the conversation, keep the slot
    sm_status eval(const int32_t *t, size_t n, float *logits, size_t cap) { return sm_session_eval(h_, t, n, logits, cap); }
    sm_status info(sm_session_info *out) const { return sm_session_get_info(h_, out); }
    sm_status save(void *buf, size_t cap, size_t *size) const { return sm_session_save(h_, buf, cap, size); }
    sm_status load(const void *buf, size_t size) { return sm_session_load(h_, buf, size); }

private:
    sm_session *h_ = nullptr;
    std::shared_ptr<sm_model> model_;
};

} // namespace smallmind
