-- The chain block of the DeviceRegistered and DeviceDeactivated events a device row comes from (NULL for a row
-- written by hand), so that the indexer can undo what a chain reorganisation took away (Store.rewind_devices).
ALTER TABLE devices ADD COLUMN registered_block INTEGER;
ALTER TABLE devices ADD COLUMN deactivated_block INTEGER;
