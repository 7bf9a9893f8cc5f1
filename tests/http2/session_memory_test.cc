// nghttp2's allocator: large blocks in pages of their own that trim() gives back (mincore shows it) when
// they are frame buffers or hold only zeros, small ones from malloc, and realloc across the two.
#include "engine/http2/session_memory.h"

#include <gtest/gtest.h>
#include <nghttp2/nghttp2.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <vector>

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

}  // namespace
}  // namespace metalgate::http2
