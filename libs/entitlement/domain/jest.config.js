module.exports = { ...require('../../../jest.preset.js'), displayName: 'entitlement-domain', rootDir: __dirname };
