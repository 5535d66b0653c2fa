module.exports = { ...require('../../../jest.preset.js'), displayName: 'gateway-contracts', rootDir: __dirname };
