module.exports = { ...require('../../../jest.preset.js'), displayName: 'entitlement-contracts', rootDir: __dirname };
