// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IVerifier} from "./IVerifier.sol";
import {ProverRegistry} from "./ProverRegistry.sol";

/// @title AttestVerifier
/// @notice The `attest` backend behind IVerifier: a result stands when `quorum` distinct attesters, each in this
/// config version's attester set and registered in the ProverRegistry, signed the same EIP-712 Attestation of it.
/// @dev Attestation(uint64 project,uint32 config,uint256 taskId,uint256 root,bytes32 result,uint64 prevTime,
/// uint256 prevLeaf,uint64 lastTime,uint256 lastLeaf) under the domain
/// {name "proofstream-attest", version "1", chainId, verifyingContract = the Router}, where
/// result = keccak256(abi.encodePacked(uint256[] outputs)) (docs/protocol.md). The task id binds the chain, the
/// TaskManager, the project, the device and the first nonce; the root binds every message of the batch; the
/// config binds the logic the attesters ran; the anchor fields (protocol v2) bind the device's anchor the task
/// was checked against and the one it leaves, exactly as a proof's public inputs do. The prover is not signed: the Router lets only the assigned prover
/// route, so a copied proof pays nobody else.
/// `proof` is exactly `quorum` signatures of 65 bytes (r || s || v, v in {27, 28}, low s) in strictly increasing
/// signer-address order, which makes the signers distinct without any storage. A proof that does not verify
/// returns false; only public inputs of the wrong shape (a wiring error) revert.
/// Trust: any `quorum` attesters of the set can certify any result. The set is fixed per deployment: a new set is
/// a new verifier, registered as a new config version of the project.
contract AttestVerifier is IVerifier {
    /// @dev Public inputs the Router appends after the outputs: project, taskId, root, device, prover,
    /// firstNonce, lastNonce, prevTime, prevLeaf, lastTime, lastLeaf.
    uint256 internal constant RECORD_INPUTS = 11;
    uint256 internal constant SIGNATURE_BYTES = 65;
    /// @dev secp256k1 order / 2: a signature with a larger s is the malleable twin of one with n - s (EIP-2).
    uint256 internal constant HALF_ORDER = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;
    /// @dev More attesters would make the constructor and a full-set check costly for no real benefit.
    uint256 public constant MAX_ATTESTERS = 64;

    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 public constant ATTESTATION_TYPEHASH =
        keccak256(
            "Attestation(uint64 project,uint32 config,uint256 taskId,uint256 root,bytes32 result,uint64 prevTime,uint256 prevLeaf,uint64 lastTime,uint256 lastLeaf)"
        );
    bytes32 internal constant NAME_HASH = keccak256("proofstream-attest");
    bytes32 internal constant VERSION_HASH = keccak256("1");

    /// @notice The Router: the domain's verifying contract, so attestations cannot be replayed on another
    /// deployment.
    address public immutable router;
    ProverRegistry public immutable provers;
    /// @notice The project config version whose results this verifier checks (signed in every attestation).
    uint32 public immutable configVersion;
    /// @notice The project's number of outputs: the public inputs must be exactly these and the 11 record inputs.
    /// Anything longer (the five signature inputs the Router appends for a BabyJubJub device, which the attest
    /// backend cannot check) is refused, so no field of the record can slip out of the signed digest.
    uint256 public immutable outputCount;
    /// @notice Distinct attester signatures a result needs.
    uint256 public immutable quorum;

    bytes32 private immutable _cachedDomainSeparator;
    uint256 private immutable _cachedChainId;

    address[] private _attesters;
    mapping(address account => bool) public isAttester;

    event AttestersSet(uint32 indexed configVersion, address[] attesters, uint256 quorum);

    error ZeroAddress();
    error NotAContract(address account);
    error ZeroConfigVersion();
    error DuplicateAttester(address attester);
    error TooManyAttesters(uint256 count, uint256 maximum);
    error BadQuorum(uint256 quorum, uint256 attesters);
    error WrongPublicInputCount(uint256 expected, uint256 actual);
    error ZeroOutputs();

    constructor(
        address router_,
        ProverRegistry provers_,
        uint32 configVersion_,
        uint256 outputCount_,
        address[] memory attesters_,
        uint256 quorum_
    ) {
        if (router_.code.length == 0) revert NotAContract(router_);
        if (outputCount_ == 0) revert ZeroOutputs();
        if (address(provers_).code.length == 0) revert NotAContract(address(provers_));
        if (configVersion_ == 0) revert ZeroConfigVersion();
        uint256 n = attesters_.length;
        if (n > MAX_ATTESTERS) revert TooManyAttesters(n, MAX_ATTESTERS);
        if (quorum_ == 0 || quorum_ > n) revert BadQuorum(quorum_, n);
        for (uint256 i = 0; i < n; ++i) {
            address attester = attesters_[i];
            if (attester == address(0)) revert ZeroAddress();
            if (isAttester[attester]) revert DuplicateAttester(attester);
            isAttester[attester] = true;
        }
        _attesters = attesters_;
        router = router_;
        provers = provers_;
        configVersion = configVersion_;
        outputCount = outputCount_;
        quorum = quorum_;
        _cachedChainId = block.chainid;
        _cachedDomainSeparator = _buildDomainSeparator();
        emit AttestersSet(configVersion_, attesters_, quorum_);
    }

    /// @inheritdoc IVerifier
    function verify(uint256[] calldata publicInputs, bytes calldata proof) external view returns (bool) {
        bytes32 digest = digestOf(publicInputs);
        if (proof.length != quorum * SIGNATURE_BYTES) return false;
        return _signedByQuorum(digest, proof, 0);
    }

    /// @inheritdoc IVerifier
    /// @dev Attestations have no batched check: each task's quorum is checked as verify() checks it.
    function verifyBatch(uint256[][] calldata publicInputs, bytes calldata proofs) external view returns (bool) {
        uint256 size = quorum * SIGNATURE_BYTES;
        bool lengthOk = proofs.length == publicInputs.length * size;
        for (uint256 i = 0; i < publicInputs.length; ++i) {
            bytes32 digest = digestOf(publicInputs[i]); // reverts on inputs of the wrong shape, as verify() does
            if (!lengthOk || !_signedByQuorum(digest, proofs, i * size)) return false;
        }
        return lengthOk;
    }

    /// @dev Whether the quorum's signatures at `offset` in `proofs` sign `digest`.
    function _signedByQuorum(bytes32 digest, bytes calldata proofs, uint256 offset) private view returns (bool) {
        uint256 k = quorum;
        address previous = address(0);
        for (uint256 i = 0; i < k; ++i) {
            address signer = _recover(digest, proofs, offset + i * SIGNATURE_BYTES);
            // Strictly increasing: distinct signers, and a failed recovery (address 0) never passes.
            if (signer <= previous) return false;
            if (!isAttester[signer] || !provers.isProver(signer)) return false;
            previous = signer;
        }
        return true;
    }

    /// @notice The digest attesters sign for the public inputs the Router builds:
    /// [outputs..., project, taskId, root, device, prover, firstNonce, lastNonce, prevTime, prevLeaf, lastTime,
    /// lastLeaf].
    function digestOf(uint256[] calldata publicInputs) public view returns (bytes32) {
        uint256 n = publicInputs.length;
        if (n != outputCount + RECORD_INPUTS) revert WrongPublicInputCount(outputCount + RECORD_INPUTS, n);
        uint256 outputs = outputCount;
        bytes32 result;
        // keccak256(abi.encodePacked(outputs)): the outputs are the first words of the array, copied as they are.
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            let length := mul(outputs, 32)
            calldatacopy(ptr, publicInputs.offset, length)
            result := keccak256(ptr, length)
        }
        uint256[4] memory anchors =
            [publicInputs[outputs + 7], publicInputs[outputs + 8], publicInputs[outputs + 9], publicInputs[outputs + 10]];
        return _digest(publicInputs[outputs], publicInputs[outputs + 1], publicInputs[outputs + 2], result, anchors);
    }

    /// @notice The digest of Attestation(project, configVersion, taskId, root, result, prevTime, prevLeaf,
    /// lastTime, lastLeaf) under this domain.
    function attestationDigest(
        uint64 project,
        uint256 taskId,
        uint256 root,
        bytes32 result,
        uint256[4] calldata anchors
    ) external view returns (bytes32) {
        return _digest(project, taskId, root, result, anchors);
    }

    /// @notice keccak256(abi.encodePacked(outputs)): the `result` an attestation signs.
    function resultHash(uint256[] calldata outputs) external pure returns (bytes32) {
        return keccak256(abi.encodePacked(outputs));
    }

    function domainSeparator() public view returns (bytes32) {
        // Recomputed after a chain split, so an attestation signed for one chain id never verifies on the other.
        return block.chainid == _cachedChainId ? _cachedDomainSeparator : _buildDomainSeparator();
    }

    function attesters() external view returns (address[] memory) {
        return _attesters;
    }

    function _digest(uint256 project, uint256 taskId, uint256 root, bytes32 result, uint256[4] memory anchors)
        private
        view
        returns (bytes32)
    {
        // project, prevTime and lastTime are the Router's uint64 values: their words are their EIP-712 encoding.
        bytes32 structHash = keccak256(
            abi.encode(
                ATTESTATION_TYPEHASH,
                project,
                uint256(configVersion),
                taskId,
                root,
                result,
                anchors[0],
                anchors[1],
                anchors[2],
                anchors[3]
            )
        );
        return keccak256(abi.encodePacked("\x19\x01", domainSeparator(), structHash));
    }

    function _buildDomainSeparator() private view returns (bytes32) {
        return keccak256(abi.encode(DOMAIN_TYPEHASH, NAME_HASH, VERSION_HASH, block.chainid, router));
    }

    /// @dev The signer of the 65-byte signature at `offset` in `proof`, or address 0 when it is malformed,
    /// malleable (high s) or recovers nothing.
    function _recover(bytes32 digest, bytes calldata proof, uint256 offset) private pure returns (address) {
        bytes32 r;
        uint256 s;
        uint8 v;
        assembly ("memory-safe") {
            let at := add(proof.offset, offset)
            r := calldataload(at)
            s := calldataload(add(at, 32))
            v := byte(0, calldataload(add(at, 64)))
        }
        if (s > HALF_ORDER || (v != 27 && v != 28)) return address(0);
        return ecrecover(digest, v, r, bytes32(s));
    }
}
