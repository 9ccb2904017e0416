// ArtifactChunks: small artifacts stay one event, large ones become parts
// that reassemble to the original bytes.
#include "core/pipeline/artifact_chunks.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vet::pipeline {
namespace {

sandbox::Chart MakeArtifact(size_t size) {
  std::string data(size, '\0');
  for (size_t i = 0; i < size; ++i) data[i] = static_cast<char>(i * 7 + i / 251);
  return sandbox::Chart{"result.csv", "text/csv", std::move(data)};
}

TEST(ArtifactChunksTest, AnArtifactThatFitsIsOneEventWithItsTotal) {
  std::vector<ArtifactEvent> parts = ArtifactChunks(MakeArtifact(1000), /*chunk_bytes=*/1000);
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0].name, "result.csv");
  EXPECT_EQ(parts[0].mime_type, "text/csv");
  EXPECT_EQ(parts[0].data, MakeArtifact(1000).data);
  EXPECT_EQ(parts[0].offset, 0);
  EXPECT_EQ(parts[0].total_bytes, 1000);
}

TEST(ArtifactChunksTest, AnEmptyArtifactIsOneEmptyEvent) {
  std::vector<ArtifactEvent> parts = ArtifactChunks(MakeArtifact(0));
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0].data, "");
  EXPECT_EQ(parts[0].total_bytes, 0);
}

TEST(ArtifactChunksTest, ALargeArtifactComesInPartsThatReassemble) {
  const sandbox::Chart original = MakeArtifact(2500);
  std::vector<ArtifactEvent> parts = ArtifactChunks(original, /*chunk_bytes=*/1000);
  ASSERT_EQ(parts.size(), 3u);
  std::string joined;
  for (const ArtifactEvent& part : parts) {
    EXPECT_EQ(part.name, "result.csv");
    EXPECT_EQ(part.mime_type, "text/csv");
    EXPECT_EQ(part.total_bytes, 2500);
    EXPECT_EQ(part.offset, static_cast<int64_t>(joined.size()));
    EXPECT_LE(part.data.size(), 1000u);
    joined += part.data;
  }
  EXPECT_EQ(parts[2].data.size(), 500u);
  EXPECT_EQ(joined, original.data);
}

TEST(ArtifactChunksTest, TheDefaultPartsStayWellUnderTheClientsLimit) {
  std::vector<ArtifactEvent> parts = ArtifactChunks(MakeArtifact(size_t{7} << 20));
  EXPECT_EQ(parts.size(), 10u);  // 7 MiB in 768 KiB parts
  for (const ArtifactEvent& part : parts) EXPECT_LE(part.data.size(), kArtifactChunkBytes);
}

}  // namespace
}  // namespace vet::pipeline
