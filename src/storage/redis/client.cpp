#include "storage/redis/client.hpp"

#include "storage/redis/cluster_client.hpp"
#include "storage/redis/connection.hpp"

namespace tp::redis {

awaitable<reply> client::execute(std::vector<std::string> command) {
    std::vector<std::vector<std::string>> one;
    one.push_back(std::move(command));
    auto answers = co_await execute_all(std::move(one));
    co_return std::move(answers.front());
}

std::string client_url_problem(std::string_view url) {
    if (url.starts_with(cluster_url_scheme)) {
        return parse_cluster_url(url) ? std::string()
                                      : "a Redis Cluster URL must look like redis-cluster://host:port[,host:port...]";
    }
    return parse_redis_url(url)
               ? std::string()
               : "a Redis URL must look like redis://host:port[/db] or redis-cluster://host:port[,host:port...]";
}

std::unique_ptr<client>
make_client(const asio::any_io_executor& executor, std::string_view url, client_options options) {
    if (const auto problem = client_url_problem(url); !problem.empty()) {
        throw error(problem + " (got \"" + std::string(url) + "\")");
    }
    if (url.starts_with(cluster_url_scheme)) {
        cluster_options cluster;
        cluster.seeds = *parse_cluster_url(url);
        cluster.node.timeout = options.timeout;
        cluster.node.retry_interval = options.retry_interval;
        cluster.on_topology_change = std::move(options.on_topology_change);
        return std::make_unique<cluster_client>(executor, std::move(cluster));
    }
    auto single = *parse_redis_url(url);
    single.timeout = options.timeout;
    single.retry_interval = options.retry_interval;
    return std::make_unique<connection>(executor, std::move(single));
}

} // namespace tp::redis
