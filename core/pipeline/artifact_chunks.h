// Splitting an artifact into the events that carry it. No AskEvent may be
// larger than a client accepts in one message (gRPC's default receive limit
// is 4 MiB; the server refuses to write an event over 1 MiB, see
// server/event_bound.h), and a chart or a result.csv can be larger than
// that, so an artifact travels as consecutive ArtifactEvents of at most
// kArtifactChunkBytes of data each, with its name, MIME type, the part's
// offset and the artifact's total size: a client appends the parts until it
// has total_bytes.
#ifndef VET_CORE_PIPELINE_ARTIFACT_CHUNKS_H_
#define VET_CORE_PIPELINE_ARTIFACT_CHUNKS_H_

#include <cstddef>
#include <vector>

#include "core/pipeline/events.h"
#include "core/sandbox/executor.h"

namespace vet::pipeline {

// 768 KiB: a quarter of the bound's headroom is left for the name, the MIME
// type and the event's other fields (names come from the sandbox, which
// keeps them short; the server's guard catches one that is not).
inline constexpr size_t kArtifactChunkBytes = size_t{768} << 10;

// The events carrying `artifact`, in order: one when its data fits in
// `chunk_bytes` (also when it is empty), otherwise one per `chunk_bytes` of
// data, the last one shorter. Every event has the artifact's name, MIME type
// and total size, and the offset of its data. `chunk_bytes` must be positive.
std::vector<ArtifactEvent> ArtifactChunks(sandbox::Chart artifact,
                                          size_t chunk_bytes = kArtifactChunkBytes);

}  // namespace vet::pipeline

#endif  // VET_CORE_PIPELINE_ARTIFACT_CHUNKS_H_
