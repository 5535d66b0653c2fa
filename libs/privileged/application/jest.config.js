module.exports = { ...require('../../../jest.preset.js'), displayName: 'privileged-application', rootDir: __dirname };
