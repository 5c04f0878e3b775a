"""Test call manager: builds the TFTP side of a CUCM cluster for phone tests.

pki    -- cluster keys and certificates
files  -- CTL/ITL .tlv, .sgn, .enc.sgn and config XML builders
parse  -- structural parser for the same formats (used to check both sides)
tree   -- writes a whole TFTP tree (+ attack set) for one phone
tftpd  -- TFTP server with fault injection
tftpc  -- minimal TFTP client (tests, debugging)
"""
