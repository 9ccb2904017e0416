// UniqueFd: the one owner of a file descriptor, closed when it goes out of
// scope (as std::unique_ptr owns memory). Every descriptor the code opens is
// held by one, so an early return never leaks it.
#ifndef VET_CORE_COMMON_UNIQUE_FD_H_
#define VET_CORE_COMMON_UNIQUE_FD_H_

namespace vet {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Gives the descriptor up without closing it.
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }
  // Closes the descriptor held (if any) and holds `fd`.
  void reset(int fd = -1);
  // Closes now and says whether close(2) succeeded, with errno set when it
  // did not: a file written through this descriptor may report a failed
  // write only here (NFS, quotas). Holds nothing afterwards.
  bool Close();

 private:
  int fd_ = -1;
};

}  // namespace vet

#endif  // VET_CORE_COMMON_UNIQUE_FD_H_
