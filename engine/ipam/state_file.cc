#include "engine/ipam/state_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace metalgate::ipam {

namespace {
constexpr std::string_view kHeader = "# metalgate address allocations v1";
}

Result<PreviousAllocations> read_state_file(const std::string& path) {
  PreviousAllocations out;
  std::ifstream in(path);
  if (!in) return out;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty() || line.front() == '#') continue;
    std::istringstream fields(line);
    std::string key, list, extra;
    fields >> key >> list;
    if (key.empty() || list.empty() || (fields >> extra) || key.find('/') == std::string::npos) {
      return Failure{path + ":" + std::to_string(number) + ": expected 'namespace/name address[,address]'"};
    }
    std::istringstream addresses(list);
    std::string item;
    while (std::getline(addresses, item, ',')) {
      auto ip = net::IpAddress::parse(item);
      if (!ip) {
        return Failure{path + ":" + std::to_string(number) + ": '" + item + "' is not an IP address"};
      }
      out[key].push_back(*ip);
    }
  }
  return out;
}

std::error_code write_state_file(const std::string& path, const PreviousAllocations& allocations) {
  std::string text(kHeader);
  text += '\n';
  for (const auto& [key, addresses] : allocations) {
    if (addresses.empty()) continue;
    text += key + ' ';
    for (std::size_t i = 0; i < addresses.size(); ++i)
      text += (i ? "," : "") + addresses[i].to_string();
    text += '\n';
  }
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return {errno, std::system_category()};
  std::size_t off = 0;
  while (off < text.size()) {
    ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      std::error_code ec{errno, std::system_category()};
      ::close(fd);
      ::unlink(tmp.c_str());
      return ec;
    }
    off += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    std::error_code ec{errno, std::system_category()};
    ::unlink(tmp.c_str());
    return ec;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    std::error_code ec{errno, std::system_category()};
    ::unlink(tmp.c_str());
    return ec;
  }
  auto dir = std::filesystem::path(path).parent_path();
  int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);  // make the rename itself durable
    ::close(dfd);
  }
  return {};
}

}  // namespace metalgate::ipam
