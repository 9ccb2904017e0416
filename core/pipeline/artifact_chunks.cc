// Artifact parts: the data is copied once into its parts; the artifact given
// by value is released when the function returns, so a 32 MiB result.csv is
// held twice only while it is being split.
#include "core/pipeline/artifact_chunks.h"

#include <algorithm>
#include <utility>

namespace vet::pipeline {

std::vector<ArtifactEvent> ArtifactChunks(sandbox::Chart artifact, size_t chunk_bytes) {
  const size_t total = artifact.data.size();
  std::vector<ArtifactEvent> parts;
  if (total <= chunk_bytes) {
    parts.push_back(ArtifactEvent{std::move(artifact.name), std::move(artifact.mime_type),
                                  std::move(artifact.data), /*offset=*/0,
                                  static_cast<int64_t>(total)});
    return parts;
  }
  parts.reserve((total + chunk_bytes - 1) / chunk_bytes);
  for (size_t offset = 0; offset < total; offset += chunk_bytes) {
    const size_t size = std::min(chunk_bytes, total - offset);
    parts.push_back(ArtifactEvent{artifact.name, artifact.mime_type,
                                  artifact.data.substr(offset, size), static_cast<int64_t>(offset),
                                  static_cast<int64_t>(total)});
  }
  return parts;
}

}  // namespace vet::pipeline
