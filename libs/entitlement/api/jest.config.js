module.exports = { ...require('../../../jest.preset.js'), displayName: 'entitlement-api', rootDir: __dirname };
