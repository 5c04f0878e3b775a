"""Test call manager: builds the TFTP side of a CUCM cluster for phone tests.

pki    -- cluster keys and certificates
files  -- CTL/ITL .tlv, .sgn, .enc.sgn and config XML builders
parse  -- structural parser for the same formats (used to check both sides)
tree   -- writes a whole TFTP tree (+ attack set) for one phone
tftpd  -- TFTP server with fault injection
httpd  -- HTTP file server with fault injection
tvsd   -- TVS server (and a tiny HTTPS server) with fault injection
capfd  -- CAPF server with fault injection
serving -- what those servers share (counters, TLV framing, TLS listener,
           the "listening on"/"counters:" command-line run)
process -- a server run as a child process by the tests
console -- parsers of the phone's console output (both test harnesses)
tftpc  -- minimal TFTP client (tests, debugging)
"""
