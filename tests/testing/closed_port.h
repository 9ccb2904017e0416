// A loopback port nothing listens on, for tests of a client whose server is
// down: bound to 127.0.0.1:0 and closed again, so connecting is refused.
// (Another process could take it meanwhile; on a test machine it does not.)
#ifndef VET_TESTS_TESTING_CLOSED_PORT_H_
#define VET_TESTS_TESTING_CLOSED_PORT_H_

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace vet::testing {

inline int ClosedLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    if (fd >= 0) close(fd);
    return 1;  // tcpmux: nothing listens there either
  }
  close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace vet::testing

#endif  // VET_TESTS_TESTING_CLOSED_PORT_H_
