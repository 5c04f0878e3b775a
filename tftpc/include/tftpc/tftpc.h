/* tftpc: a sans-I/O TFTP read client (RFC 1350, options RFC 2347/2348/2349).
 *
 * No sockets, clocks, heap or printf in here: the caller feeds datagrams and
 * the current time in, and drains actions out with tftpc_poll() until it says
 * TFTPC_IDLE. The caller owns all memory (struct tftpc is sized for static
 * allocation).
 *
 * Addresses are opaque: servers are known by their index in the caller's
 * server list, and the remote port (the server's transfer ID) as a u16.
 * Port TFTPC_PORT_REQUEST (0) means "the server's request port", which only
 * the caller knows (69 normally).
 *
 * Loop, on every board:
 *   tftpc_start(c, name, now); drain tftpc_poll();
 *   until DONE/FAILED: wait for a datagram or tftpc_next_deadline();
 *     datagram -> tftpc_on_datagram(); time -> tftpc_on_tick(); drain poll.
 * Drain tftpc_poll() after EVERY call that feeds it: a TFTPC_ACT_DATA output
 * points into the datagram given to the last tftpc_on_datagram() call.
 *
 * Behaviour, server-list rule, backoff and the sorcerer's-apprentice rule
 * are described in docs/tftp.md. */
#ifndef TFTPC_TFTPC_H
#define TFTPC_TFTPC_H
#include <stddef.h>
#include <stdint.h>

/* Per-download size limit: the phone logs "max size = 550001". */
#define TFTPC_DEFAULT_MAX_FILE_SIZE 550001u
#define TFTPC_MAX_SERVERS 4u
#define TFTPC_MAX_FILENAME 255u
/* RFC 2347: a request (options included) must not exceed 512 octets. */
#define TFTPC_MAX_REQUEST 512u
#define TFTPC_MIN_BLKSIZE 8u
#define TFTPC_MAX_BLKSIZE 65464u
#define TFTPC_DEFAULT_BLKSIZE 512u
#define TFTPC_PORT_REQUEST 0u
#define TFTPC_ERRMSG_MAX 64u

/* Wire values (RFC 1350, 2347). */
enum tftpc_opcode {
    TFTP_RRQ = 1, TFTP_WRQ = 2, TFTP_DATA = 3, TFTP_ACK = 4, TFTP_ERROR = 5, TFTP_OACK = 6,
};
enum tftpc_errcode {
    TFTP_ERR_UNDEFINED = 0, TFTP_ERR_NOT_FOUND = 1, TFTP_ERR_ACCESS = 2,
    TFTP_ERR_DISK_FULL = 3, TFTP_ERR_ILLEGAL_OP = 4, TFTP_ERR_UNKNOWN_TID = 5,
    TFTP_ERR_FILE_EXISTS = 6, TFTP_ERR_NO_USER = 7, TFTP_ERR_OPTIONS = 8,
};

struct tftpc_config {
    uint8_t n_servers;           /* 1..TFTPC_MAX_SERVERS, tried in order */
    uint16_t blksize;            /* requested blksize; 0 or 512 = do not ask */
    uint8_t timeout_s;           /* RFC 2349 timeout to ask for; 0 = do not ask */
    uint8_t ask_tsize;           /* ask for tsize (RFC 2349) */
    uint32_t max_file_size;      /* bytes; 0 = TFTPC_DEFAULT_MAX_FILE_SIZE */
    uint32_t initial_timeout_ms; /* first retransmission after this; doubles */
    uint32_t max_timeout_ms;     /* backoff cap */
    uint8_t max_retries;         /* retransmissions per server before giving up on it */
};

/* Defaults: 4 s timeout cap, 1 s initial, 4 retries, blksize 1428 (what the
 * phone asks for), tsize asked, timeout option not asked, 550001 bytes. */
void tftpc_config_default(struct tftpc_config *cfg, uint8_t n_servers);

enum tftpc_action {
    TFTPC_IDLE = 0,      /* nothing more to do until the next event */
    TFTPC_ACT_SEND,      /* send out.data/out.len to out.server, out.port */
    TFTPC_ACT_RESTART,   /* discard file bytes delivered so far (new server) */
    TFTPC_ACT_DATA,      /* file bytes out.data/out.len at out.offset */
    TFTPC_ACT_DONE,      /* file complete: out.offset = total size */
    TFTPC_ACT_FAILED,    /* out.reason; see tftpc_result() for details */
};

enum tftpc_reason {
    TFTPC_OK = 0,
    TFTPC_NOT_FOUND,     /* a reachable server said error 1: final */
    TFTPC_TOO_LARGE,     /* tsize or received bytes over max_file_size */
    TFTPC_TIMEOUT,       /* no server answered / every transfer stalled */
    TFTPC_SERVER_ERROR,  /* ERROR packet (code, message in the result) */
    TFTPC_PROTOCOL,      /* a server broke the protocol (bad OACK, ...) */
    TFTPC_UNREACHABLE,   /* every server reported unreachable (ICMP) */
};

enum tftpc_packet_kind { TFTPC_PKT_RRQ = 1, TFTPC_PKT_ACK, TFTPC_PKT_ERROR };

struct tftpc_output {
    uint8_t server;              /* SEND: index in the server list */
    uint16_t port;               /* SEND: destination port (0 = request port) */
    uint8_t kind;                /* SEND: enum tftpc_packet_kind */
    uint8_t retransmit;          /* SEND: 1 when sent again after a timeout */
    const uint8_t *data;         /* SEND: datagram; DATA: file bytes */
    size_t len;
    uint32_t offset;             /* DATA: file offset of data[0]; DONE: size */
    enum tftpc_reason reason;    /* FAILED */
};

struct tftpc_counters {
    uint32_t requests;           /* RRQs sent, retransmissions included */
    uint32_t retransmits;        /* packets re-sent after a timeout */
    uint32_t duplicates;         /* duplicate DATA/OACK received */
    uint32_t out_of_order;       /* DATA neither next nor duplicate */
    uint32_t foreign_tid;        /* datagrams from another server/port */
    uint32_t malformed;          /* datagrams that could not be parsed */
    uint32_t blocks;             /* new DATA blocks accepted */
    uint32_t bytes;              /* file bytes delivered (this attempt) */
    uint32_t server_switches;    /* times the next server was tried */
};

struct tftpc_result {
    enum tftpc_reason reason;
    uint8_t server;              /* index of the server last talked to */
    uint16_t error_code;         /* last ERROR packet received, if any */
    char error_msg[TFTPC_ERRMSG_MAX]; /* its message, NUL-terminated, cut */
    uint16_t blksize;            /* blksize in use */
    uint8_t options_used;        /* 1 if the server acknowledged options */
    uint8_t have_tsize;
    uint32_t tsize;              /* from the OACK, if have_tsize */
    uint32_t size;               /* bytes received */
    uint32_t request_no;         /* tftpc_start() count since tftpc_init() */
};

/* Internal state; fields are private to tftpc.c. */
enum tftpc_state { TFTPC_ST_IDLE = 0, TFTPC_ST_REQUEST, TFTPC_ST_TRANSFER, TFTPC_ST_DONE, TFTPC_ST_FAILED };

struct tftpc {
    struct tftpc_config cfg;
    enum tftpc_state state;
    char file[TFTPC_MAX_FILENAME + 1];
    uint32_t request_no;

    /* current attempt */
    uint8_t server;
    uint8_t with_options;        /* the current RRQ carries options */
    uint8_t tid_locked;
    uint16_t tid;
    uint16_t blksize;
    uint32_t block;              /* last block accepted (absolute, 0 = none) */
    uint8_t reacked;             /* a duplicate of `block` was re-ACKed already */
    uint32_t received;

    /* timer */
    uint32_t deadline;
    uint32_t timeout_ms;
    uint8_t retries;

    /* outputs waiting for tftpc_poll(), in this order */
    uint8_t pend_restart;
    uint8_t pend_data;
    uint8_t pend_send;
    uint8_t pend_error;
    uint8_t pend_final;
    const uint8_t *data;
    size_t data_len;
    uint32_t data_off;
    uint8_t send_retransmit;
    uint16_t pkt_len;            /* the retransmittable packet (RRQ/ACK) */
    uint8_t pkt_kind;
    uint8_t pkt[TFTPC_MAX_REQUEST];
    uint8_t err_server;          /* a one-shot ERROR packet */
    uint16_t err_port;
    uint16_t err_len;
    uint8_t err_pkt[4 + TFTPC_ERRMSG_MAX];

    uint8_t server_answered;     /* any server gave an ERROR/protocol failure */
    struct tftpc_result result;
    struct tftpc_counters counters;
};

void tftpc_init(struct tftpc *c, const struct tftpc_config *cfg);
/* Starts a download (any previous one is forgotten). Returns 0, or -1 if the
 * name is empty, too long or the request would not fit 512 octets. */
int tftpc_start(struct tftpc *c, const char *file, uint32_t now_ms);
/* A datagram from server `server` (index), source port `port`. */
void tftpc_on_datagram(struct tftpc *c, uint8_t server, uint16_t port, const uint8_t *p,
                       size_t n, uint32_t now_ms);
/* The network said (ICMP) that `server`, port `port` (0 = request port) is
 * unreachable. If that is where we are sending, the next server is tried. */
void tftpc_on_unreachable(struct tftpc *c, uint8_t server, uint16_t port, uint32_t now_ms);
/* Time passed; retransmits or gives up when the deadline is reached. */
void tftpc_on_tick(struct tftpc *c, uint32_t now_ms);
/* Returns 1 and the absolute deadline when one is armed, else 0. */
int tftpc_next_deadline(const struct tftpc *c, uint32_t *deadline_ms);
/* Milliseconds until the deadline (0 if due), or -1 when none is armed. */
int32_t tftpc_wait_ms(const struct tftpc *c, uint32_t now_ms);
enum tftpc_action tftpc_poll(struct tftpc *c, struct tftpc_output *out);

/* 1 once the download finished (DONE or FAILED). */
int tftpc_finished(const struct tftpc *c);
const struct tftpc_result *tftpc_result(const struct tftpc *c);
const struct tftpc_counters *tftpc_counters(const struct tftpc *c);
const char *tftpc_reason_str(enum tftpc_reason r);

#endif
