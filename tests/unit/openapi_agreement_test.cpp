// Keeps docs/openapi.json (compiled into the binary and served at /api-docs/openapi.json)
// in agreement with the server: the operations it lists are exactly the rows of the route
// table, each with the security its route demands, and every refusal it documents uses the
// one Error shape with machine codes whose HTTP status matches the single errc mapping.
//
// Each check is a function returning the problems it found, so the negative controls at the
// end can feed it a broken copy of the document and prove it is able to fail.

#include "api/routes.hpp"
#include "domain/errc.hpp"
#include "errc_list.hpp"
#include "http/error_reply.hpp"
#include "support/embedded_file.hpp"
#include "support/metrics.hpp"

#include <boost/beast/http/status.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/json.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tp::api_docs {
std::span<const tp::embedded_file> files(); // docs/openapi.json, compiled in by CMake
} // namespace tp::api_docs

namespace {

namespace json = boost::json;
using tp::api::access;
using tp::api::flow_step;
using tp::api::route_table;
using tp::domain::errc;

using problems = std::vector<std::string>;

constexpr std::string_view user_scheme = "bearerAuth";
constexpr std::string_view admin_scheme = "adminKey";
constexpr std::string_view error_schema_ref = "#/components/schemas/Error";
constexpr std::string_view http_methods[] = {"get", "put", "post", "delete", "options", "head", "patch", "trace"};
constexpr std::string_view known_tags[] = {"auth", "queue", "reservation", "payment", "admin", "operations", "pages"};

// ------------------------------------------------------------------ the two sides

std::string_view document_text() {
    return tp::api_docs::files().front().content;
}

// The embedded document, parsed once; a null value when it is not JSON (the parse test says why).
const json::value& document() {
    static const json::value parsed = [] {
        boost::system::error_code ec;
        auto value = json::parse(document_text(), ec);
        return ec ? json::value() : value;
    }();
    return parsed;
}

route_table routes() {
    tp::metrics stats;
    return tp::api::make_route_table(stats);
}

std::string lowercase(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
        return static_cast<char>(std::tolower(c));
    });
    return out;
}

std::string method_of(boost::beast::http::verb method) {
    return lowercase(std::string(boost::beast::http::to_string(method)));
}

std::string join(const problems& found) {
    std::string out;
    for (const auto& p : found) {
        out += "\n  - " + p;
    }
    return out;
}

// Every machine code the server sends, the domain's and the transport's, with its status.
std::map<std::string, tp::http::status, std::less<>> status_by_code() {
    std::map<std::string, tp::http::status, std::less<>> out;
    for (const auto e : tp::test::all_errors) {
        out.emplace(std::string(tp::http::code_of(e)), tp::http::status_of(e));
    }
    for (const auto f : tp::test::all_failures) {
        out.emplace(std::string(tp::http::code_of(f)), tp::http::status_of(f));
    }
    return out;
}

// ------------------------------------------------------------------ reading the document

const json::object& object_at(const json::object& parent, std::string_view key) {
    static const json::object empty;
    const auto* found = parent.if_contains(key);
    return found != nullptr && found->is_object() ? found->as_object() : empty;
}

std::optional<std::string_view> string_at(const json::object& parent, std::string_view key) {
    const auto* found = parent.if_contains(key);
    if (found == nullptr || !found->is_string()) {
        return std::nullopt;
    }
    return std::string_view(found->as_string());
}

// Follows a local reference ("#/components/responses/Unauthorized"); nullptr when it dangles.
const json::value* resolve_pointer(const json::value& doc, std::string_view ref) {
    if (!ref.starts_with("#/")) {
        return nullptr;
    }
    ref.remove_prefix(2);
    const json::value* node = &doc;
    while (node != nullptr) {
        const auto slash = ref.find('/');
        std::string token(ref.substr(0, slash));
        for (std::size_t at = 0; (at = token.find('~', at)) != std::string::npos; ++at) {
            token.replace(at, 2, token.compare(at, 2, "~1") == 0 ? "/" : "~");
        }
        node = node->is_object() ? node->as_object().if_contains(token) : nullptr;
        if (slash == std::string_view::npos) {
            break;
        }
        ref.remove_prefix(slash + 1);
    }
    return node;
}

// The object itself, or what its "$ref" points at (one level is all this document uses).
const json::object* resolved(const json::value& doc, const json::value& node) {
    if (!node.is_object()) {
        return nullptr;
    }
    const auto ref = string_at(node.as_object(), "$ref");
    if (!ref) {
        return &node.as_object();
    }
    const auto* target = resolve_pointer(doc, *ref);
    return target != nullptr && target->is_object() ? &target->as_object() : nullptr;
}

struct operation {
    std::string method;
    std::string path;
    const json::object* body;
};

std::vector<operation> operations_of(const json::value& doc) {
    std::vector<operation> out;
    for (const auto& [path, item] : object_at(doc.as_object(), "paths")) {
        if (!item.is_object()) {
            continue;
        }
        for (const auto method : http_methods) {
            const auto* op = item.as_object().if_contains(method);
            if (op != nullptr && op->is_object()) {
                out.push_back(operation{std::string(method), std::string(path), &op->as_object()});
            }
        }
    }
    return out;
}

const json::object* find_operation(const json::value& doc, std::string_view method, std::string_view path) {
    const auto* op = object_at(object_at(doc.as_object(), "paths"), path).if_contains(method);
    return op != nullptr && op->is_object() ? &op->as_object() : nullptr;
}

std::string name_of(std::string_view method, std::string_view path) {
    return lowercase(method) + " " + std::string(path);
}

// ------------------------------------------------------------------ the checks

// (method, path) pairs in the document and not in the table, or the other way round.
problems compare_operations(const json::value& doc, const route_table& table) {
    std::set<std::pair<std::string, std::string>> documented;
    for (const auto& op : operations_of(doc)) {
        documented.emplace(op.method, op.path);
    }
    std::set<std::pair<std::string, std::string>> routed;
    for (const auto& e : table.entries()) {
        routed.emplace(method_of(e.method), std::string(e.pattern.text()));
    }
    problems found;
    for (const auto& [method, path] : routed) {
        if (!documented.contains({method, path})) {
            found.push_back("missing from the document: " + name_of(method, path));
        }
    }
    for (const auto& [method, path] : documented) {
        if (!routed.contains({method, path})) {
            found.push_back("documented but not routed: " + name_of(method, path));
        }
    }
    return found;
}

// The security schemes an operation demands (its own `security`, else the document's).
std::set<std::string> schemes_required(const json::value& doc, const json::object& op) {
    const auto* security = op.if_contains("security");
    if (security == nullptr) {
        security = doc.as_object().if_contains("security");
    }
    std::set<std::string> out;
    if (security == nullptr || !security->is_array()) {
        return out;
    }
    for (const auto& requirement : security->as_array()) {
        if (requirement.is_object()) {
            for (const auto& [scheme, scopes] : requirement.as_object()) {
                out.emplace(scheme);
            }
        }
    }
    return out;
}

// Every code a response names: in its description (as a whole word) and in its examples.
std::set<std::string> codes_named(const json::value& doc, const json::object& response) {
    static const auto known = status_by_code();
    std::set<std::string> out;
    const auto text = string_at(response, "description").value_or("");
    std::string word;
    for (std::size_t i = 0; i <= text.size(); ++i) {
        const char c = i < text.size() ? text[i] : ' ';
        if ((c >= 'A' && c <= 'Z') || c == '_') {
            word += c;
            continue;
        }
        if (known.contains(word)) {
            out.insert(word);
        }
        word.clear();
    }
    const auto& media = object_at(object_at(response, "content"), "application/json");
    for (const auto& [name, example] : object_at(media, "examples")) {
        const auto* body = resolved(doc, example);
        const auto* value = body != nullptr ? body->if_contains("value") : nullptr;
        if (value != nullptr && value->is_object()) {
            if (const auto code = string_at(value->as_object(), "code")) {
                out.emplace(*code);
            }
        }
    }
    return out;
}

// Every documented refusal uses the one Error schema, names at least one machine code, and
// only codes whose status (from the errc mapping) is the status it is documented under.
problems check_error_responses(const json::value& doc) {
    static const auto known = status_by_code();
    problems found;
    for (const auto& op : operations_of(doc)) {
        for (const auto& [status_key, node] : object_at(*op.body, "responses")) {
            const std::string key(status_key);
            const bool is_default = key == "default";
            const int status = is_default ? 0 : std::stoi(key);
            if (!is_default && status < 400) {
                continue;
            }
            const auto where = name_of(op.method, op.path) + " " + key;
            const auto* response = resolved(doc, node);
            if (response == nullptr) {
                found.push_back(where + ": the response reference does not resolve");
                continue;
            }
            const auto& content = object_at(*response, "content");
            const auto& media = object_at(content, "application/json");
            const auto ref = string_at(object_at(media, "schema"), "$ref");
            if (content.size() != 1 || ref != error_schema_ref) {
                found.push_back(where + ": must be application/json with the schema " + std::string(error_schema_ref));
            }
            const auto codes = codes_named(doc, *response);
            if (codes.empty()) {
                found.push_back(where + ": names no machine code in its description or examples");
            }
            for (const auto& code : codes) {
                const auto e = known.find(code);
                if (e == known.end()) {
                    found.push_back(where + ": names an unknown code " + code);
                } else if (!is_default && static_cast<int>(e->second) != status) {
                    found.push_back(
                        where + ": " + code + " is answered with " + std::to_string(static_cast<int>(e->second))
                    );
                }
            }
            for (const auto& [name, example] : object_at(media, "examples")) {
                const auto* body = resolved(doc, example);
                const auto* value = body != nullptr ? body->if_contains("value") : nullptr;
                if (value == nullptr || !value->is_object()) {
                    found.push_back(where + ": example " + std::string(name) + " has no value");
                    continue;
                }
                const auto& v = value->as_object();
                const auto* code = v.if_contains("statusCode");
                const std::string reason(
                    boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(status))
                );
                if (!is_default && (code == nullptr || !code->is_int64() || code->as_int64() != status ||
                                    string_at(v, "error") != reason || !string_at(v, "message"))) {
                    found.push_back(where + ": example " + std::string(name) + " is not an answer of status " + key);
                }
            }
        }
    }
    return found;
}

// Each operation demands exactly the scheme its route's access level checks.
problems check_security(const json::value& doc, const route_table& table) {
    problems found;
    for (const auto& e : table.entries()) {
        const auto method = method_of(e.method);
        const auto path = e.pattern.text();
        const auto* op = find_operation(doc, method, path);
        if (op == nullptr) {
            continue; // compare_operations reports it
        }
        const auto schemes = schemes_required(doc, *op);
        std::set<std::string> expected;
        if (e.route.who == access::user) {
            expected.emplace(user_scheme);
        } else if (e.route.who == access::admin) {
            expected.emplace(admin_scheme);
        }
        if (schemes != expected) {
            std::string listed;
            for (const auto& s : schemes) {
                listed += " " + s;
            }
            found.push_back(
                name_of(method, path) + ": security is [" + listed + " ] but the route expects " +
                (expected.empty() ? std::string("none") : *expected.begin())
            );
        }
        // A route that checks a credential may refuse it: the 401 must say with which codes.
        const std::vector<errc> refusals =
            e.route.who == access::user    ? std::vector{errc::token_missing, errc::token_invalid, errc::token_expired}
            : e.route.who == access::admin ? std::vector{errc::admin_key_invalid}
                                           : std::vector<errc>{};
        if (refusals.empty()) {
            continue;
        }
        const auto* unauthorized = object_at(*op, "responses").if_contains("401");
        const auto* response = unauthorized != nullptr ? resolved(doc, *unauthorized) : nullptr;
        const auto codes = response != nullptr ? codes_named(doc, *response) : std::set<std::string>{};
        for (const auto refusal : refusals) {
            if (!codes.contains(std::string(tp::http::code_of(refusal)))) {
                found.push_back(
                    name_of(method, path) + ": 401 does not name " + std::string(tp::http::code_of(refusal))
                );
            }
        }
    }
    return found;
}

// ------------------------------------------------------------------ the tests

TEST(openapi, is_json_of_openapi_version_3) {
    boost::system::error_code ec;
    const auto parsed = json::parse(document_text(), ec);
    ASSERT_FALSE(ec) << "docs/openapi.json is not JSON: " << ec.message();
    ASSERT_TRUE(parsed.is_object());
    const auto version = string_at(parsed.as_object(), "openapi");
    ASSERT_TRUE(version.has_value()) << "no \"openapi\" version field";
    EXPECT_TRUE(version->starts_with("3.")) << *version;
    EXPECT_TRUE(object_at(parsed.as_object(), "info").contains("title"));
    EXPECT_TRUE(object_at(parsed.as_object(), "info").contains("version"));
}

TEST(openapi, documents_exactly_the_routes_of_the_table) {
    ASSERT_TRUE(document().is_object());
    const auto found = compare_operations(document(), routes());
    EXPECT_TRUE(found.empty()) << join(found);
}

TEST(openapi, demands_the_credentials_each_route_checks) {
    ASSERT_TRUE(document().is_object());
    const auto found = check_security(document(), routes());
    EXPECT_TRUE(found.empty()) << join(found);
}

TEST(openapi, defines_the_user_and_admin_bearer_schemes) {
    ASSERT_TRUE(document().is_object());
    const auto& schemes = object_at(object_at(document().as_object(), "components"), "securitySchemes");
    const auto& user = object_at(schemes, user_scheme);
    EXPECT_EQ(string_at(user, "type"), "http");
    EXPECT_EQ(string_at(user, "scheme"), "bearer");
    EXPECT_EQ(string_at(user, "bearerFormat"), "JWT");
    const auto& admin = object_at(schemes, admin_scheme);
    EXPECT_EQ(string_at(admin, "type"), "http");
    EXPECT_EQ(string_at(admin, "scheme"), "bearer");
}

TEST(openapi, error_schema_lists_every_machine_code_of_the_server) {
    ASSERT_TRUE(document().is_object());
    const auto& doc = document();
    const auto* schema = resolve_pointer(doc, error_schema_ref);
    ASSERT_NE(schema, nullptr) << "no " << error_schema_ref;
    ASSERT_TRUE(schema->is_object());
    const auto& properties = object_at(schema->as_object(), "properties");
    for (const auto field : {"message", "error", "statusCode", "code"}) {
        EXPECT_TRUE(properties.contains(field)) << "the Error schema lacks " << field;
    }
    std::set<std::string> listed;
    if (const auto* values = object_at(properties, "code").if_contains("enum");
        values != nullptr && values->is_array()) {
        for (const auto& v : values->as_array()) {
            if (v.is_string()) {
                listed.emplace(v.as_string());
            }
        }
    }
    const auto text = document_text();
    for (const auto& [code, status] : status_by_code()) {
        EXPECT_NE(text.find(code), std::string_view::npos) << code << " appears nowhere in the document";
        EXPECT_TRUE(listed.erase(code) == 1) << code << " is missing from the Error schema's code enum";
    }
    problems stale(listed.begin(), listed.end());
    EXPECT_TRUE(stale.empty()) << "the code enum lists codes the server never sends:" << join(stale);
}

TEST(openapi, every_documented_refusal_uses_the_error_schema_with_matching_codes) {
    ASSERT_TRUE(document().is_object());
    const auto found = check_error_responses(document());
    EXPECT_TRUE(found.empty()) << join(found);
}

TEST(openapi, gated_steps_document_the_queue_token_and_the_waiting_answer) {
    ASSERT_TRUE(document().is_object());
    const auto& doc = document();
    const auto table = routes();
    int gated = 0;
    for (const auto& e : table.entries()) {
        const auto* op = find_operation(doc, method_of(e.method), e.pattern.text());
        if (e.route.step == flow_step::none || op == nullptr) {
            continue;
        }
        ++gated;
        const auto name = name_of(method_of(e.method), e.pattern.text());
        bool has_queue_token = false;
        if (const auto* parameters = op->if_contains("parameters"); parameters != nullptr && parameters->is_array()) {
            for (const auto& p : parameters->as_array()) {
                const auto* parameter = resolved(doc, p);
                has_queue_token = has_queue_token || (parameter != nullptr && string_at(*parameter, "in") == "header" &&
                                                      string_at(*parameter, "name") == "Queue-Token");
            }
        }
        EXPECT_TRUE(has_queue_token) << name << " takes no Queue-Token header";
        const auto* waiting = object_at(*op, "responses").if_contains("202");
        const auto* response = waiting != nullptr ? resolved(doc, *waiting) : nullptr;
        ASSERT_NE(response, nullptr) << name << " documents no 202 waiting answer";
        EXPECT_TRUE(object_at(*response, "headers").contains("Retry-After")) << name << " 202 has no Retry-After";
        const auto& media = object_at(object_at(*response, "content"), "application/json");
        const auto* schema = resolved(doc, object_at(media, "schema"));
        ASSERT_NE(schema, nullptr) << name << " 202 has no schema";
        const auto& queue_data = object_at(object_at(*schema, "properties"), "queue_data");
        for (const auto field : {"id", "issued_timestamp", "rank", "estimated_wait_seconds"}) {
            EXPECT_TRUE(object_at(queue_data, "properties").contains(field)) << name << " queue_data lacks " << field;
        }
    }
    EXPECT_EQ(gated, 4) << "steps 1 to 3, with the seed's misspelt step 1";
}

TEST(openapi, every_operation_has_an_id_a_summary_and_a_known_tag) {
    ASSERT_TRUE(document().is_object());
    std::set<std::string> ids;
    for (const auto& op : operations_of(document())) {
        const auto name = name_of(op.method, op.path);
        const auto id = string_at(*op.body, "operationId");
        ASSERT_TRUE(id.has_value()) << name << " has no operationId";
        EXPECT_TRUE(ids.emplace(*id).second) << name << " repeats operationId " << *id;
        EXPECT_FALSE(string_at(*op.body, "summary").value_or("").empty()) << name << " has no summary";
        const auto* tags = op.body->if_contains("tags");
        ASSERT_TRUE(tags != nullptr && tags->is_array() && !tags->as_array().empty()) << name << " has no tag";
        for (const auto& tag : tags->as_array()) {
            const auto* text = tag.if_string();
            const bool known = text != nullptr && std::ranges::count(known_tags, std::string_view(*text)) == 1;
            EXPECT_TRUE(known) << name << " has an unknown tag " << json::serialize(tag);
        }
    }
}

TEST(openapi, declares_each_path_capture_as_a_required_parameter) {
    ASSERT_TRUE(document().is_object());
    const auto& doc = document();
    for (const auto& op : operations_of(doc)) {
        std::set<std::string> declared;
        if (const auto* parameters = op.body->if_contains("parameters");
            parameters != nullptr && parameters->is_array()) {
            for (const auto& p : parameters->as_array()) {
                const auto* parameter = resolved(doc, p);
                if (parameter != nullptr && string_at(*parameter, "in") == "path") {
                    const auto* required = parameter->if_contains("required");
                    EXPECT_TRUE(required != nullptr && *required == true)
                        << name_of(op.method, op.path) << ": path parameters must be required";
                    declared.emplace(string_at(*parameter, "name").value_or(""));
                }
            }
        }
        std::set<std::string> captured;
        for (std::size_t open = op.path.find('{'); open != std::string::npos; open = op.path.find('{', open + 1)) {
            captured.emplace(op.path.substr(open + 1, op.path.find('}', open) - open - 1));
        }
        EXPECT_EQ(declared, captured) << name_of(op.method, op.path);
    }
}

TEST(openapi, every_reference_resolves) {
    ASSERT_TRUE(document().is_object());
    const auto& doc = document();
    problems found;
    std::vector<const json::value*> pending{&doc};
    while (!pending.empty()) {
        const auto* node = pending.back();
        pending.pop_back();
        if (node->is_array()) {
            for (const auto& v : node->as_array()) {
                pending.push_back(&v);
            }
        } else if (node->is_object()) {
            const auto ref = string_at(node->as_object(), "$ref");
            if (ref && resolve_pointer(doc, *ref) == nullptr) {
                found.push_back(std::string(*ref));
            }
            for (const auto& [key, v] : node->as_object()) {
                pending.push_back(&v);
            }
        }
    }
    EXPECT_TRUE(found.empty()) << "dangling references:" << join(found);
}

// ------------------------------------------------------------------ negative controls
// Each feeds a check a broken copy of the document and expects exactly the breakage back
// (compared with what the check says of the document itself, so a control proves its own
// point even while another test is failing).

problems added(const problems& after, const problems& before) {
    problems out;
    for (const auto& p : after) {
        if (std::ranges::find(before, p) == before.end()) {
            out.push_back(p);
        }
    }
    return out;
}

TEST(openapi, comparison_reports_a_route_missing_from_the_document) {
    ASSERT_TRUE(document().is_object());
    const auto table = routes();
    auto broken = document();
    ASSERT_EQ(broken.as_object()["paths"].as_object().erase("/payment/cash"), 1U);
    const auto found = added(compare_operations(broken, table), compare_operations(document(), table));
    EXPECT_EQ(
        found,
        (problems{"missing from the document: get /payment/cash", "missing from the document: post /payment/cash"})
    );
}

TEST(openapi, comparison_reports_an_operation_the_server_does_not_route) {
    ASSERT_TRUE(document().is_object());
    const auto table = routes();
    auto broken = document();
    auto& item = broken.as_object()["paths"].as_object()["/payment/cash"].as_object();
    const json::value listed = item.at("get"); // copied first: inserting may move the others
    item["delete"] = listed;
    const auto found = added(compare_operations(broken, table), compare_operations(document(), table));
    EXPECT_EQ(found, (problems{"documented but not routed: delete /payment/cash"}));
}

TEST(openapi, security_check_reports_a_user_route_documented_without_a_token) {
    ASSERT_TRUE(document().is_object());
    const auto table = routes();
    auto broken = document();
    auto& balance = broken.as_object()["paths"].as_object()["/payment/cash"].as_object()["get"].as_object();
    ASSERT_EQ(balance.erase("security"), 1U);
    const auto found = added(check_security(broken, table), check_security(document(), table));
    EXPECT_EQ(found, (problems{"get /payment/cash: security is [ ] but the route expects bearerAuth"}));
}

TEST(openapi, error_check_reports_a_refusal_with_another_schema_or_a_wrong_status) {
    ASSERT_TRUE(document().is_object());
    auto broken = document();
    auto& responses = broken.as_object()["paths"]
                          .as_object()["/payment/payment_performance_seat"]
                          .as_object()["post"]
                          .as_object()["responses"]
                          .as_object();
    // The 409 copied under 410: its codes (HOLD_EXPIRED, ...) are answered with 409, not 410.
    const json::value conflict = responses.at("409"); // copied first: inserting may move the others
    responses["410"] = conflict;
    // A 404 whose body is not the Error shape.
    responses["404"].as_object()["content"].as_object()["application/json"].as_object()["schema"] =
        json::object{{"type", "object"}};
    const auto found = added(check_error_responses(broken), check_error_responses(document()));
    const auto mentions = [&](std::string_view text) {
        return std::ranges::any_of(found, [&](const std::string& p) { return p == text; });
    };
    EXPECT_TRUE(mentions("post /payment/payment_performance_seat 410: HOLD_EXPIRED is answered with 409"))
        << join(found);
    EXPECT_TRUE(mentions("post /payment/payment_performance_seat 404: must be application/json with the schema "
                         "#/components/schemas/Error")
    ) << join(found);
    EXPECT_TRUE(std::ranges::all_of(found, [](const std::string& p) {
        return p.starts_with("post /payment/payment_performance_seat 410") ||
               p.starts_with("post /payment/payment_performance_seat 404");
    })) << join(found);
}

} // namespace
