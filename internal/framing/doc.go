// Package framing is the framing of the local store's record files, shared
// by the writer (otelstore) and the reader (query/file).
//
// A record file is a sequence of segments, each holding whole OTLP JSON
// lines (one ExportLogsServiceRequest per line). Three framings are read:
//
//   - Lines: plain JSON lines, each line a segment. The local store wrote
//     these before it compressed, and the collector's file exporter writes
//     them by default.
//   - Zstd: concatenated zstd frames, each the lines of one write. The
//     local store writes this (one frame per export batch); it is what the
//     collector's file exporter writes with `compression: zstd` under its
//     exporter.file.nativeCompression feature gate, and `zstd -d` turns it
//     into plain lines.
//   - Sized: a 4-byte big-endian length, then a zstd frame of one JSON
//     message without its newline: the collector's file exporter with
//     `compression: zstd` and the gate off.
//
// A file's framing is told by its first 8 bytes (Sniff). Frame boundaries
// are found from the zstd headers alone (FrameSize), without decompressing,
// so a reader can resume at, and walk to, any segment.
package framing
