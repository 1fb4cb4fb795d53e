#include "etcd/etcd_proto.hpp"

#include <charconv>
#include <cstdio>

namespace tenure::backends::etcd {

namespace {

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int b64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

Status bad_answer(const std::string& what) {
  return make_error(
      Errc::backend,
      "etcd answered " + what + ": is this an etcd v3 server (3.4 or newer) behind the URL?");
}

}  // namespace

std::string base64_encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += kB64[(n >> 18) & 63];
    out += kB64[(n >> 12) & 63];
    out += kB64[(n >> 6) & 63];
    out += kB64[n & 63];
  }
  if (i + 1 == in.size()) {
    uint32_t n = uint8_t(in[i]) << 16;
    out += kB64[(n >> 18) & 63];
    out += kB64[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += kB64[(n >> 18) & 63];
    out += kB64[(n >> 12) & 63];
    out += kB64[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

bool base64_decode(std::string_view in, std::string& out) {
  out.clear();
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  if (in.size() % 4 == 1) return false;
  out.reserve(in.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v = b64_value(c);
    if (v < 0) return false;
    acc = (acc << 6) | uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += char((acc >> bits) & 0xff);
    }
  }
  return true;
}

std::string prefix_end(const std::string& prefix) {
  std::string end = prefix;
  while (!end.empty()) {
    auto& c = reinterpret_cast<unsigned char&>(end.back());
    if (c < 0xff) {
      ++c;
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');  // every key: etcd reads "\0" as "no upper bound"
}

std::string lease_hex(int64_t id) {
  char buf[24];
  if (id < 0) {
    // Go prints a negative int64 as "-" and the magnitude; etcd never grants one, but match it.
    std::snprintf(buf, sizeof buf, "-%llx", static_cast<unsigned long long>(-(id + 1)) + 1ull);
  } else {
    std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(id));
  }
  return buf;
}

Layout make_layout(const std::string& url_path, const std::string& election) {
  std::string root = url_path.empty() ? std::string("/tenure") : url_path;
  while (!root.empty() && root.back() == '/') root.pop_back();
  // Election names never start with '.', so ".tenure-runs" cannot be an election's prefix.
  return Layout{root + "/" + election + "/", root + "/.tenure-runs/" + election + "/"};
}

Result<int64_t> get_int64(const json& obj, const char* field) {
  if (!obj.is_object())
    return bad_answer(std::string("a non-object where '") + field + "' belongs");
  auto it = obj.find(field);
  if (it == obj.end() || it->is_null()) return int64_t{0};
  if (it->is_number_integer()) return it->get<int64_t>();
  if (it->is_string()) {
    const std::string& s = it->get_ref<const std::string&>();
    int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec == std::errc() && p == s.data() + s.size()) return v;
  }
  return bad_answer(std::string("a field '") + field + "' that is not an int64");
}

Result<KeyValue> parse_kv(const json& kv) {
  KeyValue out;
  if (!kv.is_object()) return bad_answer("a key-value that is not an object");
  auto text = [&](const char* f, std::string& dst) -> bool {
    auto it = kv.find(f);
    if (it == kv.end() || it->is_null()) return true;
    return it->is_string() && base64_decode(it->get_ref<const std::string&>(), dst);
  };
  if (!text("key", out.key) || !text("value", out.value))
    return bad_answer("a key or value that is not base64");
  for (auto [f, dst] : {std::pair{"create_revision", &out.create_revision},
                        std::pair{"mod_revision", &out.mod_revision},
                        std::pair{"version", &out.version}, std::pair{"lease", &out.lease}}) {
    auto v = get_int64(kv, f);
    if (!v.ok()) return v.status;
    *dst = v.value;
  }
  return out;
}

Result<std::vector<KeyValue>> parse_kvs(const json& resp) {
  std::vector<KeyValue> out;
  if (!resp.is_object()) return bad_answer("a range response that is not an object");
  auto it = resp.find("kvs");
  if (it == resp.end() || it->is_null()) return out;
  if (!it->is_array()) return bad_answer("'kvs' that is not an array");
  for (auto& kv : *it) {
    auto r = parse_kv(kv);
    if (!r.ok()) return r.status;
    out.push_back(std::move(r.value));
  }
  return out;
}

int64_t header_revision(const json& resp) {
  if (!resp.is_object()) return 0;
  auto h = resp.find("header");
  if (h == resp.end()) return 0;
  auto r = get_int64(*h, "revision");
  return r.ok() ? r.value : 0;
}

json grant_body(int64_t ttl_s) { return json{{"TTL", std::to_string(ttl_s)}}; }
json lease_id_body(int64_t id) { return json{{"ID", std::to_string(id)}}; }

json range_body(const std::string& key, const RangeOptions& o) {
  json b{{"key", base64_encode(key)}};
  if (!o.range_end.empty()) b["range_end"] = base64_encode(o.range_end);
  if (o.limit > 0) b["limit"] = std::to_string(o.limit);
  switch (o.sort) {
    case RangeOptions::Sort::none:
      break;
    case RangeOptions::Sort::create_ascend:
      b["sort_target"] = "CREATE";
      b["sort_order"] = "ASCEND";
      break;
    case RangeOptions::Sort::create_descend:
      b["sort_target"] = "CREATE";
      b["sort_order"] = "DESCEND";
      break;
    case RangeOptions::Sort::key_ascend:
      b["sort_target"] = "KEY";
      b["sort_order"] = "ASCEND";
      break;
  }
  if (o.max_create_revision > 0) b["max_create_revision"] = std::to_string(o.max_create_revision);
  if (o.count_only) b["count_only"] = true;
  return b;
}

Compare create_revision_is(const std::string& key, int64_t rev) {
  return Compare{Compare::Target::create, Compare::Result::equal, key, rev, {}};
}

Compare mod_revision_is(const std::string& key, int64_t rev) {
  return Compare{Compare::Target::mod, Compare::Result::equal, key, rev, {}};
}

Op put_op(const std::string& key, const std::string& value, int64_t lease) {
  return Op{Op::Kind::put, key, value, lease};
}
Op delete_op(const std::string& key) { return Op{Op::Kind::del, key, {}, 0}; }
Op range_op(const std::string& key) { return Op{Op::Kind::range, key, {}, 0}; }

namespace {

json compare_json(const Compare& c) {
  static const char* results[] = {"EQUAL", "GREATER", "LESS", "NOT_EQUAL"};
  json j{{"key", base64_encode(c.key)}, {"result", results[static_cast<int>(c.result)]}};
  switch (c.target) {
    case Compare::Target::create:
      j["target"] = "CREATE";
      j["create_revision"] = std::to_string(c.revision);
      break;
    case Compare::Target::mod:
      j["target"] = "MOD";
      j["mod_revision"] = std::to_string(c.revision);
      break;
    case Compare::Target::value:
      j["target"] = "VALUE";
      j["value"] = base64_encode(c.value);
      break;
  }
  return j;
}

json op_json(const Op& op) {
  switch (op.kind) {
    case Op::Kind::put: {
      json p{{"key", base64_encode(op.key)}, {"value", base64_encode(op.value)}};
      if (op.lease) p["lease"] = std::to_string(op.lease);
      return json{{"request_put", std::move(p)}};
    }
    case Op::Kind::del:
      return json{{"request_delete_range", json{{"key", base64_encode(op.key)}}}};
    case Op::Kind::range:
      break;
  }
  return json{{"request_range", json{{"key", base64_encode(op.key)}}}};
}

}  // namespace

json txn_body(const std::vector<Compare>& when, const std::vector<Op>& then,
              const std::vector<Op>& otherwise) {
  json b = json::object();
  json c = json::array(), s = json::array(), f = json::array();
  for (auto& x : when) c.push_back(compare_json(x));
  for (auto& x : then) s.push_back(op_json(x));
  for (auto& x : otherwise) f.push_back(op_json(x));
  b["compare"] = std::move(c);
  b["success"] = std::move(s);
  b["failure"] = std::move(f);
  return b;
}

json watch_create_body(const std::string& key, const std::string& range_end,
                       int64_t start_revision) {
  json c{{"key", base64_encode(key)}};
  if (!range_end.empty()) c["range_end"] = base64_encode(range_end);
  if (start_revision > 0) c["start_revision"] = std::to_string(start_revision);
  return json{{"create_request", std::move(c)}};
}

Result<TxnResult> parse_txn(const json& resp) {
  TxnResult out;
  if (!resp.is_object()) return bad_answer("a txn response that is not an object");
  auto s = resp.find("succeeded");
  out.succeeded = s != resp.end() && s->is_boolean() && s->get<bool>();
  out.revision = header_revision(resp);
  auto rs = resp.find("responses");
  if (rs == resp.end() || rs->is_null()) return out;
  if (!rs->is_array()) return bad_answer("txn 'responses' that is not an array");
  for (auto& r : *rs) {
    auto rr = r.is_object() ? r.find("response_range") : r.end();
    if (rr == r.end()) {
      out.ranges.emplace_back();
      continue;
    }
    auto kvs = parse_kvs(*rr);
    if (!kvs.ok()) return kvs.status;
    out.ranges.push_back(std::move(kvs.value));
  }
  return out;
}

Result<WatchMessage> parse_watch_message(const json& value) {
  if (auto e = error_from_body(value, "", "watch")) return *e;
  const json* r = &value;
  if (value.is_object() && value.contains("result")) r = &value["result"];
  if (!r->is_object()) return bad_answer("a watch message that is not an object");
  WatchMessage m;
  m.revision = header_revision(*r);
  auto flag = [&](const char* f) {
    auto it = r->find(f);
    return it != r->end() && it->is_boolean() && it->get<bool>();
  };
  m.created = flag("created");
  m.canceled = flag("canceled");
  auto id = get_int64(*r, "watch_id");
  auto cr = get_int64(*r, "compact_revision");
  if (!id.ok()) return id.status;
  if (!cr.ok()) return cr.status;
  m.watch_id = id.value;
  m.compact_revision = cr.value;
  if (auto it = r->find("cancel_reason"); it != r->end() && it->is_string())
    m.cancel_reason = it->get<std::string>();
  auto evs = r->find("events");
  if (evs != r->end() && evs->is_array()) {
    for (auto& e : *evs) {
      WatchEvent we;
      auto t = e.is_object() ? e.find("type") : e.end();
      we.is_delete = t != e.end() && t->is_string() && t->get_ref<const std::string&>() == "DELETE";
      auto kv = parse_kv(e.is_object() && e.contains("kv") ? e["kv"] : json::object());
      if (!kv.ok()) return kv.status;
      we.kv = std::move(kv.value);
      m.events.push_back(std::move(we));
    }
  }
  return m;
}

Result<int64_t> parse_keepalive_ttl(const json& value) {
  if (auto e = error_from_body(value, "", "lease keep-alive")) return *e;
  const json* r = &value;
  if (value.is_object() && value.contains("result")) r = &value["result"];
  return get_int64(*r, "TTL");
}

std::optional<Status> error_from_body(const json& body, const std::string& endpoint,
                                      const std::string& what) {
  if (!body.is_object()) return std::nullopt;
  const json* e = &body;
  if (auto it = body.find("error"); it != body.end() && it->is_object()) e = &*it;
  auto code_it = e->find("code");
  if (code_it == e->end()) code_it = e->find("grpc_code");
  if (code_it == e->end() || !code_it->is_number_integer()) return std::nullopt;
  int code = code_it->get<int>();
  if (code == 0) return std::nullopt;
  std::string msg;
  if (auto m = e->find("message"); m != e->end() && m->is_string()) msg = m->get<std::string>();
  std::string where = endpoint.empty() ? std::string("etcd") : "etcd at " + endpoint;
  std::string text = where + " refused the " + what + ": " + msg;
  Errc errc = Errc::backend;
  const bool bad_login = msg.find("authentication failed") != std::string::npos ||
                         msg.find("user name is empty") != std::string::npos;
  if (code == 16 || bad_login) {
    errc = Errc::auth_failed;
    text += bad_login && msg.find("empty") != std::string::npos
                ? " (the server has authentication enabled: put user:password in the URL)"
                : " (check the user and password in the URL)";
  } else if (code == 7) {
    errc = Errc::permission_denied;
    text += " (grant the user's role read and write on the election's keys)";
  } else if (code == 5) {
    errc = Errc::lost;
  } else if (code == 14) {
    errc = Errc::unreachable;
  } else if (code == 4) {
    errc = Errc::timeout;
  }
  return make_error(errc, text);
}

bool is_invalid_token(const json& body) {
  if (!body.is_object()) return false;
  const json* e = &body;
  if (auto it = body.find("error"); it != body.end() && it->is_object()) e = &*it;
  auto m = e->find("message");
  return m != e->end() && m->is_string() &&
         m->get_ref<const std::string&>().find("invalid auth token") != std::string::npos;
}

const KeyValue* lowest_create(const std::vector<KeyValue>& kvs) {
  const KeyValue* best = nullptr;
  for (auto& kv : kvs)
    if (!best || kv.create_revision < best->create_revision) best = &kv;
  return best;
}

const KeyValue* newest_before(const std::vector<KeyValue>& kvs, int64_t mine) {
  const KeyValue* best = nullptr;
  for (auto& kv : kvs)
    if (kv.create_revision < mine && (!best || kv.create_revision > best->create_revision))
      best = &kv;
  return best;
}

}  // namespace tenure::backends::etcd
