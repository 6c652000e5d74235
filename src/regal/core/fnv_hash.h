#pragma once
// FNV-1a, 64 bits (http://www.isthe.com/chongo/tech/comp/fnv/): the stable,
// platform-independent hash behind dataset fingerprints and cache keys.
#include <cstdint>
#include <filesystem>
#include <string>

#include <fmt/format.h>

#include "regal/core/atomic_file.h"

namespace regal {

class Fnv1a64 {
 public:
  void add_byte(uint8_t byte) {
    hash_ ^= byte;
    hash_ *= kPrime;
  }
  // Little-endian whatever the host, so a hash is portable.
  void add_number(uint64_t value) {
    for (int i = 0; i < 8; ++i) add_byte(static_cast<uint8_t>(value >> (8 * i)));
  }
  // Length first: ("ab", "c") and ("a", "bc") hash differently.
  void add_string(const std::string& text) {
    add_number(text.size());
    for (const char c : text) add_byte(static_cast<uint8_t>(c));
  }
  uint64_t value() const { return hash_; }
  // 16 lowercase hex digits.
  std::string hex() const { return fmt::format("{:016x}", hash_); }

 private:
  static constexpr uint64_t kOffsetBasis = 14695981039346656037ULL;
  static constexpr uint64_t kPrime = 1099511628211ULL;
  uint64_t hash_ = kOffsetBasis;
};

// The hash of a file's bytes, 16 hex digits: which checkpoint a run started
// from (tens of MB: well under a second). throws: regal::Error when unreadable.
inline std::string file_digest(const std::filesystem::path& file) {
  Fnv1a64 hash;
  hash.add_string(read_file(file));
  return hash.hex();
}

}  // namespace regal
