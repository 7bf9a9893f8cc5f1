// nghttp2's allocator: large blocks in pages of their own that trim() gives back (mincore shows it) when
// they are frame buffers or hold only zeros, small ones from malloc, and realloc across the two.
#include "engine/http2/session_memory.h"

#include <gtest/gtest.h>
#include <nghttp2/nghttp2.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "tests/http2/frames.h"

namespace metalgate::http2 {
namespace {

// How many pages of [p, p + bytes) are resident.
std::size_t resident_pages(void* p, std::size_t bytes) {
  const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> v((bytes + page - 1) / page);
  EXPECT_EQ(mincore(p, bytes, v.data()), 0);
  std::size_t n = 0;
  for (unsigned char c : v)
    n += c & 1;
  return n;
}

TEST(SessionMemory, ALargeBlockIsResidentOnlyWhereWrittenAndTrimGivesItBack) {
  SessionMemory m;
  nghttp2_mem* mem = m.mem();
  auto* block = static_cast<char*>(mem->malloc(16394, mem->mem_user_data));
  ASSERT_NE(block, nullptr);
  EXPECT_EQ(resident_pages(block, 16394), 0u) << "nothing written yet";
  std::memset(block, 'x', 100);  // a small frame
  EXPECT_EQ(resident_pages(block, 16394), 1u);
  m.trim();
  EXPECT_EQ(resident_pages(block, 16394), 0u);
  EXPECT_EQ(block[0], 0) << "the next frame finds a zero page";
  block[0] = 'y';  // and may write again
  mem->free(block, mem->mem_user_data);
}

// nghttp2's stream map: a page-sized table, zero again once its streams are gone.
TEST(SessionMemory, APageSizedBlockIsGivenBackOnlyWhileItHoldsNothingButZeros) {
  SessionMemory m;
  nghttp2_mem* mem = m.mem();
  auto* table = static_cast<char*>(mem->calloc(256, 16, mem->mem_user_data));
  ASSERT_NE(table, nullptr);
  table[1000] = 7;  // a stream in the map
  m.trim();
  EXPECT_EQ(resident_pages(table, 4096), 1u) << "its contents are still needed";
  EXPECT_EQ(table[1000], 7);
  table[1000] = 0;  // the stream is gone
  m.trim();
  EXPECT_EQ(resident_pages(table, 4096), 0u);
  EXPECT_EQ(table[1000], 0);
  mem->free(table, mem->mem_user_data);
}

TEST(SessionMemory, SmallBlocksComeFromMallocAndCallocZeroes) {
  SessionMemory m;
  nghttp2_mem* mem = m.mem();
  auto* z = static_cast<unsigned char*>(mem->calloc(10, 10, mem->mem_user_data));
  for (int i = 0; i < 100; ++i)
    EXPECT_EQ(z[i], 0);
  mem->free(z, mem->mem_user_data);
  mem->free(nullptr, mem->mem_user_data);
}

TEST(SessionMemory, ReallocCarriesTheBytesBetweenSmallAndLarge) {
  SessionMemory m;
  nghttp2_mem* mem = m.mem();
  auto* p = static_cast<char*>(mem->malloc(64, mem->mem_user_data));
  std::memcpy(p, "0123456789", 10);
  p = static_cast<char*>(mem->realloc(p, 20000, mem->mem_user_data));
  EXPECT_EQ(std::memcmp(p, "0123456789", 10), 0) << "small to large";
  p = static_cast<char*>(mem->realloc(p, 40000, mem->mem_user_data));
  EXPECT_EQ(std::memcmp(p, "0123456789", 10), 0) << "large to larger";
  p = static_cast<char*>(mem->realloc(p, 32, mem->mem_user_data));
  EXPECT_EQ(std::memcmp(p, "0123456789", 10), 0) << "large to small";
  mem->free(p, mem->mem_user_data);
}

TEST(SessionMemory, TheFirstRingSizedBlockComesFromUntouchedPagesTheNextFromMalloc) {
  SessionMemory m(true);
  nghttp2_mem* mem = m.mem();
  auto* ring = static_cast<char*>(mem->malloc(SessionMemory::kDeflaterRing, mem->mem_user_data));
  auto* other = static_cast<char*>(mem->malloc(SessionMemory::kDeflaterRing, mem->mem_user_data));
  ASSERT_NE(ring, nullptr);
  EXPECT_EQ(m.deflater_ring(), ring);
  EXPECT_NE(m.deflater_ring(), other);
  std::memset(ring, 'r', SessionMemory::kDeflaterRing);  // written after all: ordinary memory
  ring = static_cast<char*>(mem->realloc(ring, 2 * SessionMemory::kDeflaterRing, mem->mem_user_data));
  EXPECT_EQ(ring[SessionMemory::kDeflaterRing - 1], 'r') << "realloc carries its bytes";
  EXPECT_EQ(m.deflater_ring(), nullptr) << "given back";
  mem->free(ring, mem->mem_user_data);
  mem->free(other, mem->mem_user_data);
}

TEST(SessionMemory, WithoutTheFlagEveryBlockComesFromMalloc) {
  SessionMemory m;
  nghttp2_mem* mem = m.mem();
  void* p = mem->malloc(SessionMemory::kDeflaterRing, mem->mem_user_data);
  EXPECT_EQ(m.deflater_ring(), nullptr);
  mem->free(p, mem->mem_user_data);
}

// What the flag relies on, with nghttp2 itself: a server session without a dynamic table to encode with
// never writes its deflater's ring, through requests and answers with many fields; with the table, the
// first answer writes it (so the check can see a write).
std::size_t ring_pages_written_by_a_session(std::size_t deflate_table) {
  SessionMemory m(true);
  nghttp2_session_callbacks* cb = nullptr;
  nghttp2_session_callbacks_new(&cb);
  nghttp2_option* opt = nullptr;
  nghttp2_option_new(&opt);
  nghttp2_option_set_max_deflate_dynamic_table_size(opt, deflate_table);
  nghttp2_session* session = nullptr;
  nghttp2_session_server_new3(&session, cb, nullptr, opt, m.mem());
  nghttp2_option_del(opt);
  nghttp2_session_callbacks_del(cb);
  // The ring's page starts clean: an earlier test may have written a block of it (blocks are reused).
  const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  const auto at = reinterpret_cast<std::uintptr_t>(m.deflater_ring());
  if (at) madvise(reinterpret_cast<void*>(at / page * page), page, MADV_DONTNEED);
  const std::uint8_t* out = nullptr;
  nghttp2_submit_settings(session, NGHTTP2_FLAG_NONE, nullptr, 0);  // what the client's ACK answers
  while (nghttp2_session_mem_send(session, &out) > 0) {
  }
  std::string in = testing::preface();
  for (std::uint32_t id = 1; id <= 9; id += 2) {
    auto fields = testing::get("/page/" + std::to_string(id));
    fields.push_back({"user-agent", "a browser of some length"});
    in += testing::frame(testing::kHeaders, testing::kEndHeaders | testing::kEndStream, id,
                         testing::block(fields));
  }
  EXPECT_GE(nghttp2_session_mem_recv(session, reinterpret_cast<const std::uint8_t*>(in.data()), in.size()),
            0);
  for (std::int32_t id = 1; id <= 9; id += 2) {
    std::vector<std::string> values = {"200", "text/html", "nginx/1.22.1", std::to_string(id * 1000)};
    const nghttp2_nv nv[] = {
        {(std::uint8_t*)":status", (std::uint8_t*)values[0].data(), 7, values[0].size(), 0},
        {(std::uint8_t*)"content-type", (std::uint8_t*)values[1].data(), 12, values[1].size(), 0},
        {(std::uint8_t*)"server", (std::uint8_t*)values[2].data(), 6, values[2].size(), 0},
        {(std::uint8_t*)"x-request-number", (std::uint8_t*)values[3].data(), 16, values[3].size(), 0}};
    EXPECT_EQ(nghttp2_submit_response(session, id, nv, 4, nullptr), 0);
    while (nghttp2_session_mem_send(session, &out) > 0) {
    }
  }
  EXPECT_NE(m.deflater_ring(), nullptr);
  const std::size_t written = m.deflater_ring() ? resident_pages(const_cast<void*>(m.deflater_ring()), 1) : 1;
  nghttp2_session_del(session);
  return written;
}

TEST(SessionMemory, AServerSessionWithoutADynamicTableNeverWritesItsDeflaterRing) {
  EXPECT_EQ(ring_pages_written_by_a_session(0), 0u);
  EXPECT_EQ(ring_pages_written_by_a_session(4096), 1u);
}

}  // namespace
}  // namespace metalgate::http2
