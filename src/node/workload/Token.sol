// SPDX-License-Identifier: MIT
// The ERC-20 subset the load generator and the EVM agreement tests use. Compiled by
// scripts/compile-token.ts into token-bytecode.ts; test/core-anvil.spec.ts checks the two agree.
pragma solidity ^0.8.20;

contract Token {
    mapping(address => uint256) public balanceOf;
    event Transfer(address indexed from, address indexed to, uint256 value);

    // open mint: a test token for local chains
    function mint(address to, uint256 value) external {
        balanceOf[to] += value;
        emit Transfer(address(0), to, value);
    }

    function transfer(address to, uint256 value) external returns (bool) {
        require(balanceOf[msg.sender] >= value, "balance");
        balanceOf[msg.sender] -= value;
        balanceOf[to] += value;
        emit Transfer(msg.sender, to, value);
        return true;
    }
}
