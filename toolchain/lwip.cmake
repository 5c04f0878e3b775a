# lwIP 2.1.3 (Debian source package, unpacked by toolchain/setup.sh into
# .deps/lwip) as the static library `lwip`: core + IPv4 + Ethernet, NO_SYS=1
# raw API, configured by config/lwip/lwipopts.h and config/lwip/arch/cc.h.
# lwIP's own Filelists.cmake is not used: it writes into the source tree and
# adds documentation targets. Its file lists are mirrored here.
#
# The port (sys_now, LWIP_RAND, diagnostics, the DHCP option 150/66 hooks
# of dhcp_tftp.h) is our code, built as
# `lwip_port` with our warnings; it calls the board's HAL, so whoever links
# `lwip` also links a `board`.

set(LWIP_DIR "${SECD_DEPS_DIR}/lwip")
set(_lc "${LWIP_DIR}/src/core")
set(LWIP_SOURCES
  ${_lc}/init.c ${_lc}/def.c ${_lc}/dns.c ${_lc}/inet_chksum.c ${_lc}/ip.c
  ${_lc}/mem.c ${_lc}/memp.c ${_lc}/netif.c ${_lc}/pbuf.c ${_lc}/raw.c
  ${_lc}/stats.c ${_lc}/sys.c ${_lc}/tcp.c ${_lc}/tcp_in.c ${_lc}/tcp_out.c
  ${_lc}/timeouts.c ${_lc}/udp.c
  ${_lc}/ipv4/autoip.c ${_lc}/ipv4/dhcp.c ${_lc}/ipv4/etharp.c ${_lc}/ipv4/icmp.c
  ${_lc}/ipv4/igmp.c ${_lc}/ipv4/ip4_frag.c ${_lc}/ipv4/ip4.c ${_lc}/ipv4/ip4_addr.c
  ${LWIP_DIR}/src/netif/ethernet.c)

add_library(lwip STATIC ${LWIP_SOURCES})
target_include_directories(lwip SYSTEM PUBLIC
  "${CMAKE_SOURCE_DIR}/config/lwip" "${LWIP_DIR}/src/include")
target_compile_options(lwip PRIVATE -w -Os)

add_library(lwip_port STATIC "${CMAKE_SOURCE_DIR}/config/lwip/port.c"
  "${CMAKE_SOURCE_DIR}/config/lwip/dhcp_tftp.c" "${CMAKE_SOURCE_DIR}/config/lwip/dhcp_tftp_parse.c")
target_link_libraries(lwip_port PUBLIC trace board)
target_include_directories(lwip_port PRIVATE
  "${CMAKE_SOURCE_DIR}/config/lwip" "${LWIP_DIR}/src/include")
secd_target(lwip_port)
target_link_libraries(lwip PUBLIC lwip_port)
