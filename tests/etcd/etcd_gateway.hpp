// A synchronous etcd JSON-gateway client for tests (core/net's HttpClient on the shared
// runtime): writes and reads from outside the backend under test.
#pragma once

#include <future>
#include <string>

#include "etcd/etcd_proto.hpp"
#include "runtime.hpp"
#include "tenure/net/http_client.hpp"

namespace tenure::testing::etcd {

class Gateway {
 public:
  explicit Gateway(const std::string& host_port) {
    net::HttpClientOptions o;
    o.service = "etcd";
    auto colon = host_port.rfind(':');
    o.endpoints.push_back(
        net::Endpoint{host_port.substr(0, colon), std::stoi(host_port.substr(colon + 1)), false});
    rt_ = Runtime::get();
    auto c = net::HttpClient::create(rt_->io().get_executor(), o);
    if (c.ok()) http_ = c.value;
  }
  ~Gateway() {
    if (http_) http_->close();
  }
  // POST /v3/<path>; the answer's JSON, or a discarded value on any error.
  nlohmann::json post(const std::string& path, const nlohmann::json& body) {
    auto p = std::make_shared<std::promise<nlohmann::json>>();
    auto f = p->get_future();
    http_->request_json("POST", "/v3/" + path, body, [p](net::HttpResult r) {
      p->set_value(r.ok() ? nlohmann::json::parse(r.value.body, nullptr, false)
                          : nlohmann::json(nlohmann::json::value_t::discarded));
    });
    if (f.wait_for(std::chrono::seconds(10)) != std::future_status::ready)
      return nlohmann::json(nlohmann::json::value_t::discarded);
    return f.get();
  }

 private:
  std::shared_ptr<Runtime> rt_;
  std::shared_ptr<net::HttpClient> http_;
};

}  // namespace tenure::testing::etcd
