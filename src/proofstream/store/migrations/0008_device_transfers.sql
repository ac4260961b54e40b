-- The DeviceTransferred events of each device (its NFT changed hands, and with it the receiver of its rewards), kept
-- as a history rather than written over devices.owner, so that the indexer can undo the transfers a chain
-- reorganisation took away (Store.rewind_devices) and fall back to the owner before them. devices.owner stays the
-- owner the device was registered to; the current owner is that of the device's latest transfer (by block, then
-- log index), or the registered one when it has none (Store.device_owner).
CREATE TABLE device_transfers (
    project TEXT NOT NULL,
    device TEXT NOT NULL,
    block INTEGER NOT NULL,
    log_index INTEGER NOT NULL,
    owner TEXT NOT NULL,
    PRIMARY KEY (project, device, block, log_index)
);

CREATE INDEX device_transfers_by_block ON device_transfers (block);
