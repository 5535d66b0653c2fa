module.exports = { ...require('../../../jest.preset.js'), displayName: 'entitlement-application', rootDir: __dirname };
