// nghttp2's allocator for one session: small blocks from malloc, and its frame buffers (16 KiB each, held for
// the session's whole life) in pages of their own, which an idle connection gives back to the kernel.
//
// Why: an idle h2 connection is mostly nghttp2's outbound frame buffer. From the heap it is resident as soon
// as the heap reused the memory (measured: 14 KB of an idle connection's 34 KB); in its own pages only the
// pages a frame touched are, and trim() returns those while nothing is pending (MADV_DONTNEED: the next frame
// finds zero pages, and nghttp2 writes a frame before it reads any of it).
#pragma once

#include <nghttp2/nghttp2.h>

#include <cstddef>
#include <vector>

namespace metalgate::http2 {

class SessionMemory {
 public:
  SessionMemory();
  ~SessionMemory();
  SessionMemory(const SessionMemory&) = delete;
  SessionMemory& operator=(const SessionMemory&) = delete;

  // What nghttp2_session_*_new3 takes; valid while this object lives.
  nghttp2_mem* mem();
  // Gives the pages of the large blocks back to the kernel. Only while the session has nothing to send and
  // no stream open: their contents are not needed then.
  void trim();
  // Blocks at least this large get pages of their own (nghttp2's frame buffer chunk is 16,394 bytes).
  static constexpr std::size_t kLarge = 8192;

  struct Block {
    void* at;
    std::size_t bytes;  // mapped, a whole number of pages
  };
  void* allocate(std::size_t size);
  void release(void* p);
  void* resize(void* p, std::size_t size);

 private:
  std::vector<Block> large_;
  nghttp2_mem mem_{};
};

}  // namespace metalgate::http2
