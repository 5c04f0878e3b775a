/* LAN9118 driver: see lan9118.h. */
#include "lan9118.h"

#include <string.h>

#include "cmsdk.h"

#define ETH_REG(off) REG32(LAN9118_BASE + (off))
#define RX_DATA_FIFO ETH_REG(0x00u)
#define TX_DATA_FIFO ETH_REG(0x20u)
#define RX_STATUS_FIFO ETH_REG(0x40u)
#define TX_STATUS_FIFO ETH_REG(0x48u)
#define ID_REV ETH_REG(0x50u)
#define IRQ_CFG ETH_REG(0x54u)
#define INT_STS ETH_REG(0x58u)
#define INT_EN ETH_REG(0x5Cu)
#define BYTE_TEST ETH_REG(0x64u)
#define TX_CFG ETH_REG(0x70u)
#define HW_CFG ETH_REG(0x74u)
#define RX_FIFO_INF ETH_REG(0x7Cu)
#define TX_FIFO_INF ETH_REG(0x80u)
#define PMT_CTRL ETH_REG(0x84u)
#define MAC_CSR_CMD ETH_REG(0xA4u)
#define MAC_CSR_DATA ETH_REG(0xA8u)

#define BYTE_TEST_VALUE 0x87654321u
#define ID_REV_CHIP(v) ((v) >> 16)
#define CHIP_9118 0x0118u
#define HW_CFG_SRST (1u << 0)
#define PMT_CTRL_READY (1u << 0)
/* IRQ_CFG: enable, push-pull, active high (otherwise the line idles
 * asserted: QEMU models the active-low open-drain default). */
#define IRQ_CFG_ACTIVE_HIGH 0x111u
#define INT_RSFL (1u << 3)          /* RX status FIFO above its level (0) */
#define TX_CFG_TX_ON (1u << 1)
#define TX_CFG_TXSAO (1u << 2)      /* TX status may overflow: we never need it */
#define RX_STS_LEN(s) (((s) >> 16) & 0x3FFFu)
#define RX_STS_ERROR (1u << 15)
#define TX_CMD_A_FIRST (1u << 13)
#define TX_CMD_A_LAST (1u << 12)
#define TX_FIFO_FREE(v) ((v) & 0xFFFFu)
#define MAC_CSR_BUSY (1u << 31)
#define MAC_CSR_READ (1u << 30)
#define MAC_CR 1u
#define MAC_ADDRH 2u
#define MAC_ADDRL 3u
#define MAC_MII_ACC 6u
#define MAC_MII_DATA 7u
#define MAC_CR_FDPX (1u << 20)
#define MAC_CR_TXEN (1u << 3)
#define MAC_CR_RXEN (1u << 2)
#define MII_BUSY (1u << 0)
#define PHY_ADDR 1u
#define PHY_BSR 1u
#define PHY_BSR_LINK (1u << 2)
#define CRC_LEN 4u
#define SPIN_LIMIT 100000u          /* register polls before giving up */

static int wait_clear(const volatile uint32_t *reg, uint32_t bits)
{
    for (uint32_t i = 0; i < SPIN_LIMIT; i++)
        if ((*reg & bits) == 0)
            return 0;
    return -1;
}

static int mac_read(uint32_t reg, uint32_t *val)
{
    MAC_CSR_CMD = MAC_CSR_BUSY | MAC_CSR_READ | reg;
    if (wait_clear(&MAC_CSR_CMD, MAC_CSR_BUSY) != 0)
        return -1;
    *val = MAC_CSR_DATA;
    return 0;
}

static int mac_write(uint32_t reg, uint32_t val)
{
    MAC_CSR_DATA = val;
    MAC_CSR_CMD = MAC_CSR_BUSY | reg;
    return wait_clear(&MAC_CSR_CMD, MAC_CSR_BUSY);
}

/* PHY register through the MAC's MII management interface. */
static int phy_read(uint32_t reg, uint32_t *val)
{
    uint32_t acc;
    if (mac_write(MAC_MII_ACC, PHY_ADDR << 11 | reg << 6 | MII_BUSY) != 0)
        return -1;
    for (uint32_t i = 0; i < SPIN_LIMIT; i++) {
        if (mac_read(MAC_MII_ACC, &acc) != 0)
            return -1;
        if ((acc & MII_BUSY) == 0)
            return mac_read(MAC_MII_DATA, val);
    }
    return -1;
}

static int soft_reset(void)
{
    HW_CFG = HW_CFG_SRST;
    if (wait_clear(&HW_CFG, HW_CFG_SRST) != 0)
        return -1;
    for (uint32_t i = 0; i < SPIN_LIMIT; i++)
        if (PMT_CTRL & PMT_CTRL_READY)
            return 0;
    return -1;
}

static int read_mac_address(uint8_t mac[6])
{
    uint32_t lo, hi;
    if (mac_read(MAC_ADDRL, &lo) != 0 || mac_read(MAC_ADDRH, &hi) != 0)
        return -1;
    for (int i = 0; i < 4; i++)
        mac[i] = (uint8_t)(lo >> (8 * i));
    mac[4] = (uint8_t)hi;
    mac[5] = (uint8_t)(hi >> 8);
    return 0;
}

int lan9118_init(struct lan9118_info *info)
{
    memset(info, 0, sizeof *info);
    if (BYTE_TEST != BYTE_TEST_VALUE)
        return -1;
    info->id_rev = ID_REV;
    if (ID_REV_CHIP(info->id_rev) != CHIP_9118 || soft_reset() != 0)
        return -1;
    if (read_mac_address(info->mac) != 0)
        return -1;
    uint32_t bsr = 0;
    if (phy_read(PHY_BSR, &bsr) != 0)
        return -1;
    info->link_up = (bsr & PHY_BSR_LINK) != 0;
    TX_CFG = TX_CFG_TX_ON | TX_CFG_TXSAO;
    /* Exact MAC + broadcast filtering (promiscuous off), full duplex. */
    if (mac_write(MAC_CR, MAC_CR_FDPX | MAC_CR_TXEN | MAC_CR_RXEN) != 0)
        return -1;
    INT_STS = 0xFFFFFFFFu;
    INT_EN = INT_RSFL;
    IRQ_CFG = IRQ_CFG_ACTIVE_HIGH;
    return 0;
}

int lan9118_send(const struct lan9118_part *parts, size_t n)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        len += parts[i].len;
    if (len < 14 || len > LAN9118_MAX_FRAME)
        return -1;
    size_t words = (len + 3u) / 4u;
    if (TX_FIFO_FREE(TX_FIFO_INF) < words * 4u + 8u)
        return -1;
    /* Command A: one segment (first + last), byte count; command B: tag
     * (unused) and the frame length. Then the frame, little-endian words
     * packed across the parts. */
    TX_DATA_FIFO = TX_CMD_A_FIRST | TX_CMD_A_LAST | (uint32_t)len;
    TX_DATA_FIFO = (uint32_t)len;
    uint32_t w = 0;
    unsigned b = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < parts[i].len; k++) {
            w |= (uint32_t)parts[i].p[k] << (8u * b);
            if (++b == 4u) {
                TX_DATA_FIFO = w;
                w = 0;
                b = 0;
            }
        }
    }
    if (b)
        TX_DATA_FIFO = w;
    return 0;
}

size_t lan9118_rx_peek(void)
{
    if ((RX_FIFO_INF >> 16 & 0xFFu) == 0)
        return 0;
    uint32_t status = RX_STATUS_FIFO;
    uint32_t len = RX_STS_LEN(status);
    if ((status & RX_STS_ERROR) || len < 14u + CRC_LEN || len > LAN9118_MAX_FRAME + CRC_LEN) {
        /* Read the frame's words out and forget them (at most 2 KiB:
         * simpler than the fast-forward command and as quick here). */
        for (uint32_t words = (len + 3u) / 4u; words > 0; words--)
            (void)RX_DATA_FIFO;
        return LAN9118_RX_DROPPED;
    }
    return len - CRC_LEN;
}

void lan9118_rx_read(const struct lan9118_part *parts, size_t n, size_t len)
{
    /* The FIFO holds the frame and its CRC, in whole words. */
    size_t words = (len + CRC_LEN + 3u) / 4u, at = 0, i = 0, k = 0;
    for (size_t wi = 0; wi < words; wi++) {
        uint32_t w = RX_DATA_FIFO;
        for (size_t b = 0; b < 4u && at < len; b++, at++) {
            while (i < n && k == parts[i].len) {
                i++;
                k = 0;
            }
            if (i < n)
                parts[i].p[k++] = (uint8_t)(w >> (8u * b));
        }
    }
}

void lan9118_irq_ack(void)
{
    INT_STS = INT_RSFL;
}
