/* SMSC LAN9118 Ethernet controller of the mps2-an385 (QEMU model), 32-bit
 * bus, polled FIFOs. No lwIP in here: frames in and out as bytes, so the
 * driver can be reused under any stack. Register facts:
 * ../shared/spec/platform-notes.md and the LAN9118 datasheet. */
#ifndef QEMU_LAN9118_H
#define QEMU_LAN9118_H
#include <stddef.h>
#include <stdint.h>

#define LAN9118_BASE 0x40200000u
#define LAN9118_IRQ 13u            /* NVIC line of the AN385 image */
#define LAN9118_MAX_FRAME 1514u    /* Ethernet header + 1500, CRC excluded */

struct lan9118_info {
    uint32_t id_rev;               /* 0x01180001 on QEMU */
    uint8_t mac[6];                /* as the NIC holds it (QEMU -nic ...,mac=) */
    int link_up;                   /* PHY basic status: link */
};

/* Soft reset, MAC read from the controller, TX/RX on, receive interrupt
 * routed to IRQ 13 (level, active high). Returns 0, or -1 when no LAN9118
 * answers at LAN9118_BASE (wrong ID or BYTE_TEST) or the reset hangs. */
int lan9118_init(struct lan9118_info *info);
/* A piece of a frame: lwIP's pbuf chains are sent and received in place,
 * without a frame-sized copy. */
struct lan9118_part {
    uint8_t *p;
    size_t len;
};
/* Sends one frame made of n parts in order (14..LAN9118_MAX_FRAME bytes in
 * all, CRC added by the MAC). Returns 0, or -1 when it is too long or the
 * TX FIFO has no room. */
int lan9118_send(const struct lan9118_part *parts, size_t n);
/* Bytes of the next received frame (CRC excluded), 0 when none is
 * waiting. A frame with an error status is dropped and reported as
 * LAN9118_RX_DROPPED so the caller keeps draining. */
#define LAN9118_RX_DROPPED ((size_t)-1)
size_t lan9118_rx_peek(void);
/* Copies the len-byte frame announced by lan9118_rx_peek() into the n
 * parts in order (bytes past them are dropped; n = 0 drops the frame) and
 * removes it from the FIFO. */
void lan9118_rx_read(const struct lan9118_part *parts, size_t n, size_t len);
/* Acknowledges the receive interrupt (called from the IRQ handler). */
void lan9118_irq_ack(void);

#endif
