// gzip answers: what Accept-Encoding allows, pieces that inflate to the whole, conditional
// answers (ETag, If-None-Match, 304).

#include "gunzip.hpp"
#include "http/compression.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
namespace {

using tp::http::request;
using tp::http::status;
using tp::test::gunzip;

request with(std::string_view field, std::string_view value) {
    request req{tp::http::verb::get, "/", 11};
    req.set(field, value);
    return req;
}

TEST(accepts_gzip, follows_the_codings_and_their_q_values) {
    EXPECT_TRUE(tp::http::accepts_gzip(with("Accept-Encoding", "gzip")));
    EXPECT_TRUE(tp::http::accepts_gzip(with("Accept-Encoding", "gzip, deflate, br")));
    EXPECT_TRUE(tp::http::accepts_gzip(with("Accept-Encoding", "br;q=1.0, GZIP;q=0.5")));
    EXPECT_TRUE(tp::http::accepts_gzip(with("Accept-Encoding", "*")));
    EXPECT_TRUE(tp::http::accepts_gzip(with("Accept-Encoding", "gzip;q=0.001")));
    EXPECT_FALSE(tp::http::accepts_gzip(request{tp::http::verb::get, "/", 11}));
    EXPECT_FALSE(tp::http::accepts_gzip(with("Accept-Encoding", "identity")));
    EXPECT_FALSE(tp::http::accepts_gzip(with("Accept-Encoding", "gzip;q=0")));
    EXPECT_FALSE(tp::http::accepts_gzip(with("Accept-Encoding", "gzip;q=0.000, *")));
    EXPECT_FALSE(tp::http::accepts_gzip(with("Accept-Encoding", "*;q=0")));
    EXPECT_FALSE(tp::http::accepts_gzip(with("Accept-Encoding", "gzipped")));
}

TEST(gzip, pieces_compressed_apart_inflate_to_the_whole) {
    std::string whole;
    std::vector<tp::http::deflated_piece> pieces;
    for (int i = 0; i < 5; ++i) {
        const std::string piece = std::string(static_cast<std::size_t>(1000 * i), 'a' + static_cast<char>(i)) + "|";
        whole += piece;
        pieces.push_back(tp::http::deflate_piece(piece));
    }
    std::vector<const tp::http::deflated_piece*> order;
    for (const auto& p : pieces) {
        order.push_back(&p);
    }
    EXPECT_EQ(gunzip(tp::http::gzip_of(order)), whole);
    EXPECT_EQ(gunzip(tp::http::gzip("")), "");
    EXPECT_EQ(gunzip(tp::http::gzip("{\"a\":1}")), "{\"a\":1}");
}

TEST(gzip, a_wrong_piece_order_fails_the_trailer_check) {
    const auto a = tp::http::deflate_piece("first piece, ");
    const auto b = tp::http::deflate_piece("second piece");
    const tp::http::deflated_piece* in_order[] = {&a, &b};
    const tp::http::deflated_piece* swapped[] = {&b, &a};
    auto forged = tp::http::gzip_of(in_order);
    // The bytes of the swapped pieces with the trailer of the right order: inflate refuses.
    const auto swapped_body = tp::http::gzip_of(swapped);
    forged.replace(0, forged.size() - 8, swapped_body.substr(0, swapped_body.size() - 8));
    EXPECT_THROW(gunzip(forged), std::runtime_error);
}

TEST(compress_if_accepted, compresses_large_json_answers_for_clients_that_take_gzip) {
    const std::string big = "[" + std::string(4000, '1') + "]";
    tp::http::response res{status::ok, 11};
    res.set("Content-Type", "application/json");
    res.body() = big;
    tp::http::compress_if_accepted(with("Accept-Encoding", "gzip"), res);
    EXPECT_EQ(res["Content-Encoding"], "gzip");
    EXPECT_EQ(res["Vary"], "Accept-Encoding");
    EXPECT_EQ(gunzip(res.body()), big);

    tp::http::response plain{status::ok, 11};
    plain.set("Content-Type", "application/json");
    plain.body() = big;
    tp::http::compress_if_accepted(request{tp::http::verb::get, "/", 11}, plain);
    EXPECT_EQ(plain.count("Content-Encoding"), 0u);
    EXPECT_EQ(plain["Vary"], "Accept-Encoding");
    EXPECT_EQ(plain.body(), big);

    tp::http::response small{status::ok, 11};
    small.set("Content-Type", "application/json");
    small.body() = "{\"balance\":1000}";
    tp::http::compress_if_accepted(with("Accept-Encoding", "gzip"), small);
    EXPECT_EQ(small.count("Content-Encoding"), 0u);
    EXPECT_EQ(small.body(), "{\"balance\":1000}");
}

TEST(none_match_names, compares_weakly_and_reads_lists) {
    const std::string tag = "W/\"0123abcd\"";
    EXPECT_TRUE(tp::http::none_match_names(with("If-None-Match", tag), tag));
    EXPECT_TRUE(tp::http::none_match_names(with("If-None-Match", "\"0123abcd\""), tag));
    EXPECT_TRUE(tp::http::none_match_names(with("If-None-Match", "\"zz\", W/\"0123abcd\""), tag));
    EXPECT_TRUE(tp::http::none_match_names(with("If-None-Match", "*"), tag));
    EXPECT_FALSE(tp::http::none_match_names(with("If-None-Match", "W/\"0123abce\""), tag));
    EXPECT_FALSE(tp::http::none_match_names(request{tp::http::verb::get, "/", 11}, tag));
}

TEST(prepared_json_response, answers_304_gzip_or_identity) {
    const auto json = std::make_shared<const std::string>("[" + std::string(2000, '7') + "]");
    const auto gz = std::make_shared<const std::string>(tp::http::gzip(*json));
    const std::string tag = "W/\"feed\"";

    const tp::http::prepared_json answer{
        tag,
        json->size(),
        [&gz] { return gz; },
        [&json] {
            return json;
        }};
    auto not_modified = tp::http::prepared_json_response(with("If-None-Match", tag), answer);
    EXPECT_EQ(not_modified.head.result(), status::not_modified);
    EXPECT_TRUE(not_modified.head.body().empty());
    EXPECT_EQ(not_modified.body, nullptr);
    EXPECT_EQ(not_modified.head["ETag"], tag);

    auto compressed = tp::http::prepared_json_response(with("Accept-Encoding", "gzip"), answer);
    EXPECT_EQ(compressed.head.result(), status::ok);
    EXPECT_EQ(compressed.head["Content-Encoding"], "gzip");
    EXPECT_EQ(compressed.head["ETag"], tag);
    EXPECT_EQ(compressed.head["Vary"], "Accept-Encoding");
    EXPECT_EQ(compressed.body, gz); // the prepared bytes themselves, not a copy
    EXPECT_EQ(gunzip(*compressed.body), *json);

    auto plain = tp::http::prepared_json_response(request{tp::http::verb::get, "/", 11}, answer);
    EXPECT_EQ(plain.head.count("Content-Encoding"), 0u);
    EXPECT_EQ(plain.body, json);
}

} // namespace
