-- The BabyJubJub public key of a device whose messages are EdDSA-Poseidon signed (DeviceRegistry's
-- BjjKeyRegistered event): 0x-hex of Ax || Ay, 32 bytes each big-endian; NULL for a secp256k1 device, whose key
-- its address is. The gateway verifies BabyJubJub messages with it, the prover hands it to the circuit.
ALTER TABLE devices ADD COLUMN bjj_key TEXT;
