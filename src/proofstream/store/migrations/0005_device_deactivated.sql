-- A device deactivated in the DeviceRegistry (DeviceDeactivated): no longer admitted by the gateway, but its row,
-- and with it a BabyJubJub device's key, stays so that receipts of its earlier messages can still be checked.
ALTER TABLE devices ADD COLUMN deactivated INTEGER NOT NULL DEFAULT 0;
