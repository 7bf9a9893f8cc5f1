// nghttp2's allocator for one session: small blocks from malloc, and blocks of a page or more in pages of
// their own, which an idle connection gives back to the kernel.
//
// Why: an idle h2 connection is mostly nghttp2's. Its outbound frame buffer (16,394 bytes, held for the
// session's whole life) is resident as soon as the heap reused the memory (measured: 14 KB of an idle
// connection's 34 KB); in its own pages only the pages a frame touched are, and trim() returns those while
// nothing is pending (MADV_DONTNEED: the next frame finds zero pages, and nghttp2 writes a frame before it
// reads any of it). Its stream map's table (256 buckets, 4,096 bytes, also for the session's life) is all
// zero again once the last stream is gone, and zero is what a given-back page reads as: trim() returns it
// then too. Together about 8 KB of an idle connection's 30 (tests/benchmarks/proxy/h2_vs_haproxy.sh).
//
// A server session encodes without a dynamic table (server_session.cc), yet nghttp2 1.52 still allocates
// the deflater's ring of table entries (1,024 bytes, its first block of that size: the deflater is set up
// before the inflater) and never writes it. With `unwritten_deflater_ring`, that block comes from pages
// nothing has touched, shared by many sessions, so it costs no resident memory (about 1 KB of an idle
// connection's 22). Only memory rides on the guess: were the block written after all, it would be an
// ordinary block, merely resident.
#pragma once

#include <nghttp2/nghttp2.h>

#include <cstddef>
#include <vector>

namespace metalgate::http2 {

class SessionMemory {
 public:
  explicit SessionMemory(bool unwritten_deflater_ring = false);
  ~SessionMemory();
  SessionMemory(const SessionMemory&) = delete;
  SessionMemory& operator=(const SessionMemory&) = delete;

  // What nghttp2_session_*_new3 takes; valid while this object lives.
  nghttp2_mem* mem();
  // Gives back the pages of the frame buffers, and of the other blocks in pages of their own that hold only
  // zeros. Only while the session has nothing to send and no stream open: the frame buffers' contents are
  // not needed then.
  void trim();
  // Blocks at least this large get pages of their own.
  static constexpr std::size_t kLarge = 4096;
  // Blocks at least this large are frame buffers (nghttp2's chunk is 16,394 bytes; nothing else it keeps is).
  static constexpr std::size_t kFrameBuffer = 8192;
  // The deflater ring's size with nghttp2's default table (4,096 bytes / 32 per entry, 8 bytes a pointer).
  static constexpr std::size_t kDeflaterRing = 1024;

  struct Block {
    void* at;
    std::size_t bytes;  // mapped, a whole number of pages
  };
  // The deflater's ring, if it came from untouched pages (for tests).
  const void* deflater_ring() const { return ring_; }
  void* allocate(std::size_t size);
  void release(void* p);
  void* resize(void* p, std::size_t size);

 private:
  std::vector<Block> large_;
  nghttp2_mem mem_{};
  bool ring_expected_;    // the next kDeflaterRing block is the deflater's ring
  void* ring_ = nullptr;  // that block, from untouched pages
};

}  // namespace metalgate::http2
