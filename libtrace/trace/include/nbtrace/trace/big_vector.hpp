#pragma once
// Storage for the large pools of a parsed trace or a diff. Blocks of 2 MiB
// and more are mapped directly and marked for transparent huge pages: a
// 100 MB trace otherwise spends most of its parse time in 4 KiB page faults.
#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <vector>

namespace nbtrace {

namespace detail {
inline constexpr std::size_t kHugePage = std::size_t{2} << 20;

inline void* map_huge(std::size_t bytes) {
  // Over-map by one huge page, then trim so the block starts on a 2 MiB
  // boundary (THP only backs aligned ranges).
  const std::size_t padded = bytes + kHugePage;
  void* raw = ::mmap(nullptr, padded, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  const auto base = reinterpret_cast<std::uintptr_t>(raw);
  const std::uintptr_t aligned = (base + kHugePage - 1) & ~(kHugePage - 1);
  if (aligned > base) ::munmap(raw, aligned - base);
  const std::uintptr_t end = base + padded;
  if (end > aligned + bytes) ::munmap(reinterpret_cast<void*>(aligned + bytes), end - (aligned + bytes));
#ifdef MADV_HUGEPAGE
  ::madvise(reinterpret_cast<void*>(aligned), bytes, MADV_HUGEPAGE);
#endif
  return reinterpret_cast<void*>(aligned);
}

inline std::size_t round_to_page(std::size_t bytes) { return (bytes + 4095) & ~std::size_t{4095}; }
}  // namespace detail

template <typename T>
struct BigAllocator {
  using value_type = T;
  BigAllocator() noexcept = default;
  template <typename U>
  BigAllocator(const BigAllocator<U>&) noexcept {}

  T* allocate(std::size_t n) {
    const std::size_t bytes = n * sizeof(T);
    if (bytes < detail::kHugePage) return std::allocator<T>().allocate(n);
    return static_cast<T*>(detail::map_huge(detail::round_to_page(bytes)));
  }
  void deallocate(T* p, std::size_t n) noexcept {
    const std::size_t bytes = n * sizeof(T);
    if (bytes < detail::kHugePage) {
      std::allocator<T>().deallocate(p, n);
      return;
    }
    ::munmap(p, detail::round_to_page(bytes));
  }
  template <typename U>
  bool operator==(const BigAllocator<U>&) const noexcept {
    return true;
  }
};

template <typename T>
using big_vector = std::vector<T, BigAllocator<T>>;

}  // namespace nbtrace
