#include "engine/http2/session_memory.h"

#include <malloc.h>
#include <nghttp2/nghttp2.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace metalgate::http2 {

namespace {

std::size_t page_rounded(std::size_t n) {
  static const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  return (n + page - 1) / page * page;
}

SessionMemory& self(void* user) { return *static_cast<SessionMemory*>(user); }

// Blocks of kDeflaterRing bytes carved from anonymous pages mapped for them and kept for the process's life:
// a page is resident only once a block in it is written. One pool for every thread (a session may be freed
// on another thread than the one that made it); a lock per connection opened and closed.
class UnwrittenBlocks {
 public:
  static UnwrittenBlocks& instance() {
    static UnwrittenBlocks* pool = new UnwrittenBlocks;  // never freed: sessions may outlive statics
    return *pool;
  }
  void* take() {
    std::lock_guard lock(mutex_);
    if (free_.empty() && !map_region()) return nullptr;
    void* p = free_.back();
    free_.pop_back();
    return p;
  }
  void give_back(void* p) {
    std::lock_guard lock(mutex_);
    free_.push_back(p);
  }

 private:
  static constexpr std::size_t kRegion = 256 * 1024;
  bool map_region() {
    void* at = mmap(nullptr, kRegion, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (at == MAP_FAILED) return false;
    // Taken from the back: blocks go out in address order, filling one page before the next.
    for (std::size_t off = kRegion; off > 0; off -= SessionMemory::kDeflaterRing)
      free_.push_back(static_cast<char*>(at) + off - SessionMemory::kDeflaterRing);
    return true;
  }
  std::mutex mutex_;
  std::vector<void*> free_;
};

}  // namespace

SessionMemory::SessionMemory(bool unwritten_deflater_ring) : ring_expected_(unwritten_deflater_ring) {
  mem_.mem_user_data = this;
  mem_.malloc = [](std::size_t size, void* user) { return self(user).allocate(size); };
  mem_.free = [](void* p, void* user) { self(user).release(p); };
  mem_.calloc = [](std::size_t n, std::size_t size, void* user) {
    void* p = self(user).allocate(n * size);
    if (p && n * size < kLarge) std::memset(p, 0, n * size);  // fresh pages are zero already
    return p;
  };
  mem_.realloc = [](void* p, std::size_t size, void* user) { return self(user).resize(p, size); };
}

SessionMemory::~SessionMemory() {
  for (const Block& b : large_)
    munmap(b.at, b.bytes);
  if (ring_) UnwrittenBlocks::instance().give_back(ring_);
}

nghttp2_mem* SessionMemory::mem() {
  return &mem_;
}

void* SessionMemory::allocate(std::size_t size) {
  if (size == kDeflaterRing && ring_expected_) {
    ring_expected_ = false;
    ring_ = UnwrittenBlocks::instance().take();
    if (ring_) return ring_;
  }
  if (size < kLarge) return std::malloc(size);
  const std::size_t bytes = page_rounded(size);
  void* at = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (at == MAP_FAILED) return nullptr;
  large_.push_back({at, bytes});
  return at;
}

void SessionMemory::release(void* p) {
  if (!p) return;
  if (p == ring_) {
    UnwrittenBlocks::instance().give_back(ring_);
    ring_ = nullptr;
    return;
  }
  auto it = std::find_if(large_.begin(), large_.end(), [&](const Block& b) { return b.at == p; });
  if (it == large_.end()) return std::free(p);
  munmap(it->at, it->bytes);
  large_.erase(it);
}

void* SessionMemory::resize(void* p, std::size_t size) {
  if (!p) return allocate(size);
  auto it = std::find_if(large_.begin(), large_.end(), [&](const Block& b) { return b.at == p; });
  if (it == large_.end() && size < kLarge && p != ring_) return std::realloc(p, size);
  const std::size_t old = p == ring_ ? kDeflaterRing : it == large_.end() ? malloc_usable_size(p) : it->bytes;
  void* moved = allocate(size);
  if (!moved) return nullptr;
  std::memcpy(moved, p, std::min(old, size));
  release(p);
  return moved;
}

void SessionMemory::trim() {
  for (const Block& b : large_) {
    const auto* bytes = static_cast<const unsigned char*>(b.at);
    if (b.bytes >= kFrameBuffer || (bytes[0] == 0 && std::memcmp(bytes, bytes + 1, b.bytes - 1) == 0))
      madvise(b.at, b.bytes, MADV_DONTNEED);
  }
}

}  // namespace metalgate::http2
