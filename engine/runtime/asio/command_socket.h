// A root-only Unix socket that answers one command line per connection (the admin socket): the line in, the
// handler's text out, then the connection closes, as HAProxy's stats socket in non-interactive mode. It runs
// in the loop of `io`, so the handler may touch what that loop owns without locks. Live adapter only.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>

namespace metalgate::runtime::asio_live {

class CommandSocket {
 public:
  using Handler = std::function<std::string(std::string_view line)>;
  CommandSocket(boost::asio::io_context& io, Handler handler);
  ~CommandSocket();  // closes and removes the socket file
  CommandSocket(const CommandSocket&) = delete;
  CommandSocket& operator=(const CommandSocket&) = delete;

  // Binds `path` with mode 0600 (set before anyone can connect; a stale socket there is replaced) and
  // serves; what went wrong, or empty.
  std::string open(const std::string& path);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace metalgate::runtime::asio_live
