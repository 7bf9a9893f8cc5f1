#include "engine/runtime/asio/command_socket.h"

#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <istream>

namespace metalgate::runtime::asio_live {

using boost::asio::local::stream_protocol;

struct CommandSocket::Impl {
  Impl(boost::asio::io_context& io_context, Handler h)
      : io(io_context), acceptor(io_context), handler(std::move(h)) {}
  struct Client {
    explicit Client(boost::asio::io_context& io) : socket(io) {}
    stream_protocol::socket socket;
    boost::asio::streambuf in;
    std::string answer;
  };
  void accept();
  void answer(const std::shared_ptr<Client>& client);

  boost::asio::io_context& io;
  stream_protocol::acceptor acceptor;
  Handler handler;
  std::string path;
};

CommandSocket::CommandSocket(boost::asio::io_context& io, Handler handler)
    : impl_(std::make_unique<Impl>(io, std::move(handler))) {}

CommandSocket::~CommandSocket() {
  boost::system::error_code ignored;
  impl_->acceptor.close(ignored);
  if (!impl_->path.empty()) ::unlink(impl_->path.c_str());
}

std::string CommandSocket::open(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(path.c_str());  // a previous run's
  boost::system::error_code ec;
  const mode_t old_mask = ::umask(0177);  // the socket is born 0600
  impl_->acceptor.open(stream_protocol(), ec);
  if (!ec) impl_->acceptor.bind(stream_protocol::endpoint(path), ec);
  ::umask(old_mask);
  if (!ec) impl_->acceptor.listen(16, ec);
  if (ec) return path + ": " + ec.message();
  impl_->path = path;
  impl_->accept();
  return {};
}

void CommandSocket::Impl::accept() {
  auto client = std::make_shared<Client>(io);
  acceptor.async_accept(client->socket, [this, client](const boost::system::error_code& ec) {
    if (ec) return;  // closed
    boost::asio::async_read_until(client->socket, client->in, '\n',
                                  [this, client](const boost::system::error_code& rec, std::size_t) {
                                    if (!rec || rec == boost::asio::error::eof) answer(client);
                                  });
    accept();
  });
}

// The command's answer, written before the connection closes (the client reads to EOF).
void CommandSocket::Impl::answer(const std::shared_ptr<Client>& client) {
  std::istream line_in(&client->in);
  std::string line;
  std::getline(line_in, line);
  client->answer = handler(line);
  boost::asio::async_write(client->socket, boost::asio::buffer(client->answer),
                           [client](const boost::system::error_code&, std::size_t) {});
}

}  // namespace metalgate::runtime::asio_live
