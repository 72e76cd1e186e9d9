#include <catch2/catch.hpp>

#include "format/gguf.h"
#include "format/gguf_write.h"
#include "format/model_file.h"
#include "test_support.h"

#include <cstring>

using namespace sm;

TEST_CASE("gguf: parses the shared stories260K file", "[format]") {
    auto bytes = smtest::read_fixture(smtest::data_path("stories260K.gguf"));
    REQUIRE(bytes.size() > 1000);
    gguf::File f;
    Error err;
    REQUIRE(gguf::parse(bytes.data(), bytes.size(), f, err) == SM_OK);
    CHECK(f.version == 3);
    CHECK(f.tensors.size() == 48);
    CHECK(f.alignment == 32);
    const gguf::TensorInfo *emb = f.tensor("token_embd.weight");
    REQUIRE(emb);
    CHECK(emb->ne[0] == 64);
    CHECK(emb->ne[1] == 512);
    ModelFile m;
    REQUIRE(model_from_gguf(f, bytes.data(), m, err) == SM_OK);
    CHECK(m.hp.dim == 64);
    CHECK(m.hp.hidden_dim == 172);
    CHECK(m.hp.n_layers == 5);
    CHECK(m.hp.n_heads == 8);
    CHECK(m.hp.n_kv_heads == 4);
    CHECK(m.hp.n_vocab == 512);
    CHECK(m.vocab.tokens.size() == 512);
    CHECK(m.vocab.bos == 1);
    CHECK(m.vocab.eos == 2);
    CHECK_FALSE(m.tied());
}

TEST_CASE("gguf: the writer's output parses back with every value type", "[format]") {
    gguf::Writer w;
    w.set_string("general.architecture", "llama");
    w.set_u32("a.u32", 7);
    w.set_i32("a.i32", -3);
    w.set_f32("a.f32", 1.5f);
    w.set_bool("a.bool", true);
    w.set_strings("a.strings", {"x", "", "hello"});
    w.set_f32s("a.f32s", {1, 2, 3});
    w.set_i32s("a.i32s", {-1, 5});
    std::vector<float> data(3 * 5);
    for (size_t i = 0; i < data.size(); i++) data[i] = static_cast<float>(i);
    w.add_tensor("t1", TensorType::F32, {3, 5}, [&](uint8_t *dst, size_t n) { memcpy(dst, data.data(), n); });
    w.add_tensor("t2", TensorType::F32, {7}, [&](uint8_t *dst, size_t n) { memset(dst, 0x3f, n); });
    const std::string path = smtest::temp_path("writer.gguf");
    Error err;
    REQUIRE(w.write(path.c_str(), err) == SM_OK);
    auto bytes = smtest::read_file(path);
    gguf::File f;
    REQUIRE(gguf::parse(bytes.data(), bytes.size(), f, err) == SM_OK);
    int64_t i;
    double d;
    REQUIRE(f.find("a.u32"));
    CHECK((f.find("a.u32")->to_i64(&i) && i == 7));
    CHECK((f.find("a.i32")->to_i64(&i) && i == -3));
    CHECK((f.find("a.f32")->to_f64(&d) && d == 1.5));
    CHECK(f.find("a.bool")->raw[0] == 1);
    REQUIRE(f.find("a.strings")->strings.size() == 3);
    CHECK(f.find("a.strings")->strings[2] == "hello");
    CHECK(f.find("a.i32s")->count == 2);
    const gguf::TensorInfo *t1 = f.tensor("t1"), *t2 = f.tensor("t2");
    REQUIRE(t1);
    REQUIRE(t2);
    CHECK(t1->offset % 32 == 0);
    CHECK(t2->offset % 32 == 0);
    CHECK(f.data_offset % 32 == 0);
    CHECK(memcmp(bytes.data() + f.data_offset + t1->offset, data.data(), data.size() * 4) == 0);
}

TEST_CASE("gguf: bad headers give clear errors", "[format]") {
    Error err;
    gguf::File f;
    std::vector<uint8_t> b = {'G', 'G', 'U', 'F', 1, 0, 0, 0};
    CHECK(gguf::parse(b.data(), b.size(), f, err) == SM_ERR_UNSUPPORTED);
    err.clear();
    b = {'G', 'G', 'U', 'X', 3, 0, 0, 0};
    CHECK(gguf::parse(b.data(), b.size(), f, err) == SM_ERR_FORMAT);
    CHECK(std::string(err.message).find("magic") != std::string::npos);
    err.clear();
    // A header claiming a billion metadata entries in a tiny file.
    b = {'G', 'G', 'U', 'F', 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x40, 0, 0, 0, 0};
    CHECK(gguf::parse(b.data(), b.size(), f, err) == SM_ERR_FORMAT);
    err.clear();
    CHECK(gguf::parse(b.data(), 3, f, err) == SM_ERR_FORMAT);
}

TEST_CASE("gguf: a wrong tensor shape or an unknown quant type is named in the error", "[format]") {
    gguf::Writer w;
    w.set_string("general.architecture", "llama");
    w.set_u32("llama.embedding_length", 8);
    w.set_u32("llama.block_count", 1);
    w.set_u32("llama.feed_forward_length", 16);
    w.set_u32("llama.attention.head_count", 2);
    auto zero = [](uint8_t *d, size_t n) { memset(d, 0, n); };
    w.add_tensor("token_embd.weight", TensorType::F32, {8, 10}, zero);
    w.add_tensor("output_norm.weight", TensorType::F32, {8}, zero);
    w.add_tensor("blk.0.attn_norm.weight", TensorType::F32, {8}, zero);
    w.add_tensor("blk.0.attn_q.weight", TensorType::F32, {8, 9}, zero); // wrong: 8 x 8
    const std::string path = smtest::temp_path("badshape.gguf");
    Error err;
    REQUIRE(w.write(path.c_str(), err) == SM_OK);
    ModelFile m;
    CHECK(open_model_file(path.c_str(), nullptr, m, err) == SM_ERR_FORMAT);
    CHECK(std::string(err.message).find("blk.0.attn_q.weight") != std::string::npos);

    // A tensor of type 99 (unknown to ggml).
    auto bytes = smtest::read_fixture(smtest::data_path("stories260K.gguf"));
    gguf::File f;
    err.clear();
    REQUIRE(gguf::parse(bytes.data(), bytes.size(), f, err) == SM_OK);
    // Find the first tensor info's type field: name, n_dims, dims, then type.
    const gguf::TensorInfo &t0 = f.tensors[0];
    size_t at = static_cast<size_t>(reinterpret_cast<const uint8_t *>(t0.name.data()) - bytes.data()) + t0.name.size() + 4 +
                8 * t0.n_dims;
    uint32_t bad = 99;
    memcpy(bytes.data() + at, &bad, 4);
    err.clear();
    CHECK(gguf::parse(bytes.data(), bytes.size(), f, err) == SM_ERR_UNSUPPORTED);
    CHECK(std::string(err.message).find("unknown tensor type 99") != std::string::npos);
}
